{{- define "lineops.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Name of the chart's RBAC objects that other releases could also name: the ClusterRoles,
the ClusterRoleBindings, and the RoleBindings in watched namespaces (two releases may watch
the same namespace). The release namespace goes in front, so releases of the same name in
two namespaces do not claim one object. RBAC names may have 253 characters; room is kept for
the "-framework" suffix. */}}
{{- define "lineops.clusterName" -}}
{{- printf "%s-%s" .Release.Namespace (include "lineops.fullname" .) | trunc 242 | trimSuffix "-" -}}
{{- end -}}

{{- define "lineops.serviceAccountName" -}}
{{- if and (not .Values.serviceAccount.create) (not .Values.serviceAccount.name) -}}
{{- fail "serviceAccount.name: required when serviceAccount.create is false (the existing ServiceAccount the operator runs as)" -}}
{{- end -}}
{{- if eq .Values.serviceAccount.name "default" -}}
{{- fail "serviceAccount.name: not \"default\": the operator's roles would be bound to every Pod of the namespace that runs as it" -}}
{{- end -}}
{{- default (include "lineops.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{/* The operator's metrics Service, also the scrape job its alerts select: truncated so the
suffix fits in 63 characters, and a DNS-1035 label as Service names must be. */}}
{{- define "lineops.metricsName" -}}
{{- $name := printf "%s-metrics" (include "lineops.fullname" . | trunc 55 | trimSuffix "-") -}}
{{- if not (regexMatch "^[a-z]([-a-z0-9]*[a-z0-9])?$" $name) -}}
{{- fail (printf "the release name %q makes the metrics Service %q, not a DNS-1035 label (a letter first, no '.'): choose another release name or set metrics.service.enabled=false" .Release.Name $name) -}}
{{- end -}}
{{- $name -}}
{{- end -}}

{{/* Label values quoted: a release named `123` or `on` is a string, not an int or a bool. */}}
{{- define "lineops.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service | quote }}
{{- end -}}

{{/* Selector of the operator Pod: stable across upgrades (no version in it). */}}
{{- define "lineops.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name | quote }}
app.kubernetes.io/instance: {{ .Release.Name | quote }}
app.kubernetes.io/component: operator
{{- end -}}

{{/* The operator/data-plane image: repository@digest when a digest is set, else :tag
(default: the chart's appVersion, which is the package version the image is built from). */}}
{{- define "lineops.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- /* imagePullSecrets' names, comma-separated (LINEOPS_IMAGE_PULL_SECRETS). */ -}}
{{- define "lineops.pullSecretNames" -}}
{{- $names := list -}}
{{- range . }}{{ $names = append $names .name }}{{ end -}}
{{- join "," $names -}}
{{- end }}

{{/*
A label map as key=value pairs joined by commas, keys sorted (LINEOPS_PROMETHEUS_RULE_LABELS).
*/}}
{{- define "lineops.labelPairs" -}}
{{- $pairs := list -}}
{{- range $key := keys . | sortAlpha -}}
{{- $pairs = append $pairs (printf "%s=%s" $key (get $ $key | toString)) -}}
{{- end -}}
{{- join "," $pairs -}}
{{- end -}}

"""The parts of ``metadata`` the operator reads; everything else is kept as is."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from lineops.api.base import ApiModel


class ObjectMeta(ApiModel):
    """A subset of metav1.ObjectMeta; other keys are kept (``extra="allow"``)."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(default="", description="Object name.")
    namespace: str | None = Field(default=None, description="Namespace of the object.")
    uid: str | None = Field(default=None, description="Unique id assigned by the API server.")
    generation: int | None = Field(default=None, description="Spec generation.")
    resource_version: str | None = Field(default=None, description="Optimistic-lock version.")
    labels: dict[str, str] = Field(default_factory=dict, description="Labels.")
    annotations: dict[str, str] = Field(default_factory=dict, description="Annotations.")

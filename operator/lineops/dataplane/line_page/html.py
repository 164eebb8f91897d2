"""The line page's HTML: one static document that polls ``…/live`` every 2 s and draws SVG
control charts (limits, centre line, flagged points), OEE, alarms and predictions. No
external scripts, so it works on a shop-floor screen without internet access."""

from __future__ import annotations

from typing import Final

PAGE: Final = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lineops line</title>
<style>
body{font-family:system-ui,sans-serif;margin:1rem 2rem;color:#222;background:#fafafa}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.1rem;margin:1.2rem 0 .4rem}
.muted{color:#777;font-size:.85rem}.tiles{display:flex;gap:1rem;flex-wrap:wrap}
.tile{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;min-width:8rem}
.tile b{display:block;font-size:1.6rem}.good{color:#1a7f37}.warn{color:#b35900}.bad{color:#c62828}
#alarms li{color:#c62828}.chart{background:#fff;border:1px solid #ddd;border-radius:6px;
margin:.5rem 0;padding:.4rem}table{border-collapse:collapse}td,th{padding:.2rem .6rem;
border-bottom:1px solid #eee;text-align:left;font-size:.9rem}
</style></head><body>
<h1 id="title">line</h1>
<div class="muted">checked <span id="updated">never</span> (this screen's clock)
&middot; refreshes every 2 s</div>
<div id="stale" class="bad" role="alert" hidden></div>
<h2>Alarms (SPC rule violations)</h2><ul id="alarms" aria-live="polite"><li>loading</li></ul>
<h2>OEE</h2><div class="tiles" id="oee"></div><div class="muted" id="oee-window"></div>
<h2>Control charts</h2><div id="charts"></div>
<h2>Latest predictions</h2><table id="predictions"><caption class="muted">the ten newest
entries of the prediction log; times as logged (UTC)</caption><thead><tr><th>time</th>
<th>model</th><th>work unit</th><th>lot</th><th>result</th></tr></thead><tbody></tbody></table>
<script>
"use strict";
const live = location.pathname.replace(/\\/$/, "") + "/live";
let etag = null;
const NS = "http://www.w3.org/2000/svg";
function el(tag, attrs, text) {
  const e = tag.startsWith("svg:") ? document.createElementNS(NS, tag.slice(4))
                                    : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}
function pct(v) { return v === null || v === undefined ? "n/a" : (100 * v).toFixed(1) + " %"; }
function cls(v) {
  if (v === null || v === undefined) return "";
  return v >= 0.85 ? "good" : v >= 0.6 ? "warn" : "bad";
}
// Limits and points to a precision their spread can tell apart, never in exponent form
// (toPrecision showed 101330.2 and 101325 both as 1.0133e+5).
function num(v, spread) {
  const scale = spread > 0 ? spread : Math.abs(v) || 1;
  const digits = Math.min(10, Math.max(0, 3 - Math.floor(Math.log10(scale))));
  return v.toFixed(digits);
}
function drawPanel(c, p) {
  const W = 900, H = 220, L = 60, R = 90, T = 12, B = 28;
  const ys = p.points.concat(p.ucl, p.lcl, [p.center]).filter(Number.isFinite);
  let lo = Math.min(...ys), hi = Math.max(...ys); const pad = (hi - lo) * 0.08 || 1;
  lo -= pad; hi += pad;
  const n = p.x.length, x = i => L + (n < 2 ? 0 : i * (W - L - R) / (n - 1));
  const y = v => T + (hi - v) * (H - T - B) / (hi - lo);
  const spread = Math.max(...p.ucl) - Math.min(...p.lcl);
  const lastU = p.ucl[p.ucl.length - 1], lastL = p.lcl[p.lcl.length - 1];
  const svg = el("svg:svg", {viewBox: `0 0 ${W} ${H}`, width: "100%", "data-chart": p.name,
    "data-characteristic": c.name, role: "img", "aria-label": `${c.name} ${p.label}: ` +
    `${p.points.length} points, centre ${num(p.center, spread)}, limits ` +
    `${num(lastL, spread)} to ${num(lastU, spread)}, ` +
    `${Object.keys(p.violations).length} flagged`});
  const line = (vals, color, dash, label) => {
    const pts = vals.map((v, i) => `${x(i)},${y(v)}`).join(" ");
    svg.appendChild(el("svg:polyline", {points: pts, fill: "none", stroke: color,
      "stroke-width": 1.5, "stroke-dasharray": dash || ""}));
    svg.appendChild(el("svg:text", {x: W - R + 4, y: y(vals[vals.length - 1]) + 4,
      "font-size": 12, fill: color}, label));
  };
  line(p.ucl, "#c62828", "6 4", "UCL " + num(lastU, spread));
  line(p.lcl, "#c62828", "6 4", "LCL " + num(lastL, spread));
  line(p.x.map(() => p.center), "#1a7f37", "", "CL " + num(p.center, spread));
  line(p.points, "#1f4e99", "", "");
  p.points.forEach((v, i) => {
    const rules = p.violations[i];
    const dot = el("svg:circle", {cx: x(i), cy: y(v), r: rules ? 5 : 3,
      fill: rules ? "#c62828" : "#1f4e99", class: rules ? "flagged" : "point"});
    dot.appendChild(el("svg:title", {}, `subgroup ${p.x[i]}: ${num(v, spread)}` +
      (rules ? " - " + rules.join(", ") : "")));
    svg.appendChild(dot);
  });
  svg.appendChild(el("svg:text", {x: 4, y: 14, "font-size": 12}, p.label));
  return svg;
}
function render(s) {
  document.title = `${s.line} - lineops`;
  document.getElementById("title").textContent = `${s.namespace} / ${s.line}`;
  const alarms = document.getElementById("alarms"); alarms.replaceChildren();
  if (!s.alarms.length)
    alarms.appendChild(el("li", {style: "color:#1a7f37"}, "none: every chart in control"));
  for (const a of s.alarms) alarms.appendChild(el("li", {class: "alarm"},
    `${a.characteristic} ${a.chart} subgroup ${a.subgroup}: ${a.rules.join(", ")}`));
  if (s.alarmsTotal > s.alarms.length)
    alarms.appendChild(el("li", {class: "muted"},
      `and ${s.alarmsTotal - s.alarms.length} older (the charts flag every one)`));
  const oee = document.getElementById("oee"); oee.replaceChildren();
  const win = document.getElementById("oee-window");
  win.textContent = s.oee && s.oee.window ?
    `over ${s.oee.window[0]} to ${s.oee.window[1]}: the last 8 recorded hours, as status.kpis` : "";
  if (!s.oee) oee.appendChild(el("span", {class: "muted"}, "no machine events yet"));
  else if (s.oee.note) oee.appendChild(el("span", {class: "muted"}, s.oee.note));
  else if (s.oee.error) oee.appendChild(el("span", {class: "bad"}, s.oee.error));
  else for (const k of ["oee", "availability", "performance", "quality"]) {
    const t = el("div", {class: "tile", id: "oee-" + k});
    t.appendChild(el("span", {}, k.toUpperCase()));
    t.appendChild(el("b", {class: cls(s.oee.line[k])}, pct(s.oee.line[k]))); oee.appendChild(t);
  }
  const charts = document.getElementById("charts"); charts.replaceChildren();
  for (const c of s.characteristics) {
    const box = el("div", {class: "chart", id: "chart-" + c.name});
    const state = c.panels ? (c.inControl ? "in control" : `${c.violations} violation(s)`) : c.note;
    const head = `${c.name} (${c.chart}, ${c.unit}): ${c.subgroups} subgroups, ${state}`;
    box.appendChild(el("div", {class: "chart-state"}, head));
    for (const p of c.panels || []) box.appendChild(drawPanel(c, p));
    charts.appendChild(box);
  }
  const preds = document.querySelector("#predictions tbody"); preds.replaceChildren();
  const empty = text => preds.appendChild(el("tr")).appendChild(
    el("td", {class: "muted", colspan: 5}, text));
  if (s.predictions === null)
    empty("not shown: the data plane guards its records with a token (GET /v1/lines/" +
          `${s.namespace}/${s.line}/predictions with it)`);
  else if (!s.predictions.length) empty("none logged");
  for (const p of s.predictions || []) {
    const tr = el("tr", {class: "prediction"});
    const result = JSON.stringify(p.result);
    const cells = [p.timestamp, p.modelTag, p.workUnit || "", p.lot || "",
                   result.length > 200 ? result.slice(0, 200) + "..." : result];
    for (const v of cells) tr.appendChild(el("td", {}, v));
    preds.appendChild(tr);
  }
  document.body.setAttribute("data-alarms", String(s.alarmsTotal));
}
// What is drawn stays on screen when a poll fails, under a banner that says since when it
// is not current: a line page left showing old charts as if live is worse than none.
let failingSince = null;
function stale(why) {
  failingSince = failingSince || new Date().toLocaleTimeString();
  const banner = document.getElementById("stale");
  banner.textContent = `not current since ${failingSince}: ${why}`; banner.hidden = false;
  document.body.setAttribute("data-stale", "true");
}
async function poll() {
  try {
    const r = await fetch(live, {headers: etag ? {"If-None-Match": etag} : {}});
    if (r.status === 200 || r.status === 304) {
      if (r.status === 200) { etag = r.headers.get("ETag"); render(await r.json()); }
      failingSince = null; document.getElementById("stale").hidden = true;
      document.body.setAttribute("data-stale", "false");
      document.getElementById("updated").textContent = new Date().toLocaleTimeString();
    } else {
      let detail = r.statusText;
      try { detail = (await r.json()).detail || detail; } catch (e) { /* not a problem document */ }
      stale(`the data plane answered ${r.status} ${detail}`);
    }
  } catch (e) { stale("the data plane did not answer (" + e + ")"); }
  setTimeout(poll, 2000);
}
poll();
</script></body></html>
"""

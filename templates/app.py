"""The page's Python. It runs in a Web Worker (templates/static/worker.js) on Pyodide: it keeps the form's
state as the page reports it (field id + value per input), asks pycore, and answers with updates as plain data,
never markup: slot id -> text, element attributes, element trees of tag/attribute/text that the page's applier
(templates/static/boot.js) builds with createElement and textContent, and charts as SVG that the applier parses
as XML. It computes nothing itself: every figure comes from pycore.view, the same function that rendered the
HTML at build time.

The update format (one JSON object per message; the applier applies it in animation frames, a step at a time in
the order below, so the figures show first; a chart of the same shape is patched in place; the history entry is
written once inputs pause):
    slots {name: text}            textContent of [data-slot=name]
    values {id: text}             a field's value      checked {id: bool}   radios {name: value}  boxes {name: [value]}
    hidden [[selector, bool]]     attrs [[selector, name, text | null]]     classes [[selector, class, bool]]
    text [[selector, text]]       svg [[selector, svg text]]                children [[selector, [node]]],
                                  node = text | [tag, {attribute: text}, [node]]
    mode "infer" | "train"        engine name (its [data-engines] settings shown)    reveal [id]  (a field with a message)
    formats {name: [shown, best]} history [push | replace, query]   link query   root {html data-* key: text}
    download [text, name, mime]   focus id   recalc ms   ack (the last input event taken into account: the page
    marks itself <html data-busy> from an input until its update has been applied and its history entry written)
"""
import asyncio
import json
import re
from dataclasses import replace
from urllib.parse import parse_qs, urlencode

from pycore import InputError
from pycore import urlstate
from pycore import view as V
from pycore.charts import context_curve
from pycore.errors import ModelFileError
from pycore.importers import read_model_files
from pycore.importers.hub import (DEFAULT_ENDPOINT, MAX_BYTES, MAX_REQUESTS, RETRIES, Got, HubAuthError, HubError,
                                  HubLimitError, HubNotFound, HubRangeError, HubTransferError, hub_plan,
                                  parse_content_range, parse_ref)
from pycore.importers.reader import BytesReader, NeedMoreBytes
from pycore.report import estimate_dict, estimate_markdown
from pycore.training import LORA_MODULES, training_dict, training_markdown
from pyodide.ffi import create_once_callable, create_proxy, to_js

js = None  # the worker's global scope, bound by main() (the memory snapshot must hold no JavaScript object)

FORM_FIELDS = ("model", "weights", "kv", "batch", "context", "gpu", "gpus", "parallel", "engine", "act", "kvm",
               "overhead", "gpumem", "chunk", "name",
               "flash_attn", "ubatch", "ngl", "n_cpu_moe", "ram", "gpu_memory_utilization", "max_num_batched_tokens",
               "max_num_seqs", "speculative_method", "num_speculative_tokens", "draft_model", "data_parallel_size",
               "tensor_split", "mem_fraction_static", "chunked_prefill_size", "page_size",
               "method", "rank", "precision", "optimizer", "ckpt", "zero", "fsdp", "tp")
CHECKBOXES = ("swa_full", "no_kv_offload", "enable_expert_parallel")  # engine switches: "1" checked, "0" not
NUMBERS = ("batch", "context", "gpus", "overhead", "gpumem", "chunk", "ubatch", "ngl", "n_cpu_moe", "ram",
           "gpu_memory_utilization", "max_num_batched_tokens", "max_num_seqs", "num_speculative_tokens",
           "data_parallel_size", "mem_fraction_static", "chunked_prefill_size", "page_size")
# The two fields whose meaning changes with the question asked
LABELS = {"infer": {"batch": "Batch size", "context": "Context length"},
          "train": {"batch": "Micro-batch size", "context": "Sequence length"}}
BUTTONS = ("copy-link", "export-json", "export-md", "embed-code", "use-config", "hub-load", "hwfirst-run")
FORMAT_NAMES = tuple(name for _, names in V.format_groups() for name in names)  # the rows of the formats table


def _q(text) -> str:
    """A value inside a CSS attribute selector's double quotes."""
    return str(text).replace("\\", "\\\\").replace('"', '\\"')


# ---------------------------------------------------------------- the Hub (range reads with fetch)

HUB_ENDPOINT = DEFAULT_ENDPOINT
HUB_TIMEOUT_MS = 30_000  # one request, body included; tests lower it (the page's window.llmHubTimeoutMs)


class HubCancelled(Exception):
    """The user changed the model (or asked for another) while headers were being read."""


class HubReader:
    """The page's remote byte reader: answers a pycore.importers.hub plan's Needs with `fetch` and a
    `Range` header, under the CLI's limits (hub.MAX_BYTES, MAX_REQUESTS, RETRIES; a deadline per request),
    with the same typed errors. What was read stays in memory (`cache`), so reading a model again costs
    nothing. No token is ever sent: the page reads public repos only."""

    def __init__(self, timeout_ms=HUB_TIMEOUT_MS):
        self.timeout_ms = timeout_ms
        self.cache = {}  # Need.key -> [prefix bytes, size, missing]
        self.generation = 0
        self.controller = None
        self.stats = {}

    def cancel(self):
        self.generation += 1
        if self.controller is not None:
            self.controller.abort()
            self.controller = None

    async def run(self, plan, step):
        self.cancel()
        if sum(len(e[0]) for e in self.cache.values()) > MAX_BYTES:  # bounded: forget older models' headers
            self.cache.clear()
        generation = self.generation
        stats = self.stats = {"bytes": 0, "requests": 0, "cached": 0}
        answer, done = None, 0
        while True:
            try:
                need = plan.send(answer)
            except StopIteration as stop:
                return stop.value, stats
            if generation != self.generation:
                raise HubCancelled()
            m = re.match(r"shard (\d+) of (\d+)|part (\d+) of (\d+)", need.step)
            done, total = (int(m.group(1) or m.group(3)), int(m.group(2) or m.group(4))) if m else (done, 0)
            step(need.step, stats, done - 1, total)  # the step's progress reaches the page before the wait
            answer = await self.prefix(need, stats, generation)

    async def prefix(self, need, stats, generation):
        entry = self.cache.get(need.key)
        if entry is not None:
            stats["cached"] += 1
        else:
            entry = self.cache[need.key] = [b"", None, False]
        if entry[2]:
            if need.optional:
                return None
            raise HubNotFound(f"{need.file}: not found (404)")
        data, size = entry[0], entry[1]
        if size is None or (len(data) < need.end and len(data) < size):
            try:
                more, size = await self.get_range(need.url, len(data), max(need.end, len(data) + 1), need.file,
                                                  stats, generation)
            except HubNotFound:
                if not data:
                    entry[2] = True
                    if need.optional:
                        return None
                raise
            entry[0], entry[1] = data + more, size
        return Got(entry[0], entry[1])

    async def get_range(self, url, start, end, name, stats, generation):
        for attempt in range(RETRIES + 1):
            try:
                return await self._get_range(url, start, end, name, stats, generation)
            except _HubRetry as again:
                if attempt == RETRIES:
                    raise again.error from None

    async def _get_range(self, url, start, end, name, stats, generation):
        if stats["requests"] >= MAX_REQUESTS:
            raise HubLimitError(f"{name}: {stats['requests']:,} requests made, the limit is {MAX_REQUESTS:,}")
        controller = self.controller = js.AbortController.new()
        timed_out = []

        def expire(*_):
            timed_out.append(True)
            controller.abort()
        timer = js.setTimeout(create_once_callable(expire), self.timeout_ms)
        stats["requests"] += 1
        try:
            options = to_js({"headers": {"Range": f"bytes={start}-{end - 1}"}, "signal": controller.signal,
                             "credentials": "omit", "referrerPolicy": "no-referrer"},
                            dict_converter=js.Object.fromEntries)
            try:
                response = await (getattr(js, "llmPageFetch", None) or js.fetch)(url, options)
            except Exception:
                self._failed(generation, timed_out, name, "could not reach the Hugging Face Hub (offline, or "
                             "blocked): download the files and choose them instead", retry=False)
            status = int(response.status)
            if status in (401, 403):
                raise HubAuthError(f"{name}: the Hub answered {status}: the repo is gated or private, and the page "
                                   "sends no token: use the command line with HF_TOKEN set, or download the "
                                   "files and choose them")
            if status == 404:
                raise HubNotFound(f"{name}: not found (404): check the id, the revision and the file name")
            want = end - start
            if status == 206:
                first, last, size = parse_content_range(str(response.headers.get("Content-Range") or ""), name)
                if first != start or last >= end:
                    raise HubRangeError(f"{name}: asked for bytes {start:,}-{end - 1:,}, the server sent "
                                        f"{first:,}-{last:,}")
                data = await self._body(response, last - first + 1, name, stats, generation, timed_out)
                if len(data) != last - first + 1:
                    raise _HubRetry(HubTransferError(f"{name}: the body was cut short ({len(data):,} of "
                                                     f"{last - first + 1:,} bytes)"))
                return data, size
            if status == 200:
                data = await self._body(response, want + 1, name, stats, generation, timed_out)
                if start == 0 and len(data) <= want:
                    return data, len(data)
                raise HubRangeError(f"{name}: the server ignored the Range request and sent the whole file; "
                                    f"stopped after {len(data):,} bytes")
            raise HubTransferError(f"{name}: the server answered {status}")
        finally:
            js.clearTimeout(timer)

    async def _body(self, response, limit, name, stats, generation, timed_out):
        """At most `limit` bytes of the body, within the byte budget."""
        reader = response.body.getReader()
        parts, got = [], 0
        try:
            while got < limit:
                if stats["bytes"] >= MAX_BYTES:
                    raise HubLimitError(f"{name}: the limit of {MAX_BYTES:,} bytes was reached")
                try:
                    chunk = await reader.read()
                except Exception:
                    self._failed(generation, timed_out, name, f"{name}: the connection failed")
                if chunk.done:
                    break
                data = chunk.value.to_bytes()[:min(limit - got, MAX_BYTES - stats["bytes"])]
                stats["bytes"] += len(data)
                parts.append(data)
                got += len(data)
        finally:
            if got >= limit or stats["bytes"] >= MAX_BYTES:
                reader.cancel()
        return b"".join(parts)

    def _failed(self, generation, timed_out, name, message, retry=True):
        if generation != self.generation:
            raise HubCancelled()
        if timed_out:
            raise _HubRetry(HubTransferError(f"{name}: the server is too slow (no answer in time)"))
        error = HubTransferError(message)
        raise (_HubRetry(error) if retry else error)


class _HubRetry(Exception):
    def __init__(self, error):
        self.error = error



class Form:
    """The form as the page last reported it (a snapshot at start, then each input's new value), with this
    side's own writes: read_fields sees what the user sees."""

    def __init__(self, snapshot: dict):
        self.values = dict(snapshot.get("values", {}))  # id -> value of every input, select and textarea
        self.checked = dict(snapshot.get("checked", {}))  # id -> bool, checkboxes and radios
        self.radios = dict(snapshot.get("radios", {}))  # group name -> the checked radio's value
        self.boxes = {k: list(v) for k, v in snapshot.get("boxes", {}).items()}  # group name -> checked values
        self.bad = set(snapshot.get("bad", []))  # number fields whose text is not a number
        self.present = set(self.values) | set(self.checked)

    def take(self, event: dict):
        """A user's input: the target's new state."""
        target, name = event.get("id", ""), event.get("name", "")
        if "value" in event and target:
            self.values[target] = event["value"]
        if "checked" in event and target:
            self.checked[target] = bool(event["checked"])
        if event.get("type") == "radio" and event.get("checked") and name:
            self.radios[name] = event.get("value", "")
        if "group" in event and name:
            self.boxes[name] = list(event["group"])
        if target:
            (self.bad.add if event.get("bad") else self.bad.discard)(target)


class Page:
    def __init__(self, post, init: dict):
        self.post = post  # hands one JSON message to the page
        self.out = {}
        self.form = Form(init.get("form", {}))
        self.kind = init.get("page", "")
        self.full_page = self.kind != "embed"  # the embed shows less
        self.href = str(init.get("href", ""))
        self.search = str(init.get("search", ""))
        # the link's fields: the embed computes with those it has no input for (ngl, units, the engine's ...), as
        # the page whose "Get embed code" wrote the link did
        self.link = urlstate.parse_query(self.search) if not self.full_page else urlstate.DEFAULTS
        # the fields the embed shows (its link's show=): an error on another one is said in its stale note
        self.visible = set(urlstate.shown_fields(self.search)) if not self.full_page else None
        self.ack = 0  # the last input event taken into account
        self.acked = 0  # the last one the page was told about
        self.shown = {}  # slot -> text last sent, so unchanged slots cost nothing
        self.estimate = None  # the last valid estimate
        self.system = V.system_of("GiB")
        self.generation = 0  # increments per recalculation; late secondary work checks it
        self.mode = None  # the question shown: "infer" or "train"
        self.engine_shown = None
        self.imported = None  # ImportedModel read from the user's files
        self.hub = HubReader(int(init.get("hubTimeoutMs") or HUB_TIMEOUT_MS))
        self.hub_ref = ""  # the Hub model the imported one was read from: links carry it (hf=)
        self.hub_source = None  # what was read for it, as the CLI's --json "source"

    # ---------------------------------------------------------------- updates out

    def put(self, kind, *item):
        """Queue one update (see the module's docstring)."""
        if kind in ("hidden", "attrs", "classes", "text", "svg", "children", "reveal"):
            self.out.setdefault(kind, []).append(list(item) if len(item) > 1 else item[0])
        elif kind in ("slots", "values", "checked", "radios", "boxes", "root", "formats"):
            self.out.setdefault(kind, {})[item[0]] = item[1]
        else:
            self.out[kind] = item[0] if len(item) == 1 else list(item)

    def flush(self):
        """Send what was queued; an input taken into account is always acknowledged (the page is then settled)."""
        if self.out or self.ack != self.acked:
            self.out["ack"] = self.acked = self.ack
            self.post(json.dumps(self.out, separators=(",", ":")))
            self.out = {}

    def has(self, element_id) -> bool:
        return element_id in self.form.present

    def set_value(self, element_id, value):
        value = str(value)
        self.form.values[element_id] = value
        self.form.bad.discard(element_id)
        self.put("values", element_id, value)

    def set_checked(self, element_id, on):
        self.form.checked[element_id] = bool(on)
        self.put("checked", element_id, bool(on))

    def set_text(self, element_id, text):
        self.put("text", "#" + element_id, str(text))

    def set_hidden(self, element_id, hidden):
        self.put("hidden", "#" + element_id, bool(hidden))

    # ---------------------------------------------------------------- form <-> fields

    def read_fields(self) -> dict:
        f = self.form
        fields = {} if self.full_page else {name: str(value) for name, value in self.link.items() if name != "cfg"}
        fields.update({name: str(f.values[name]) for name in FORM_FIELDS if name in f.values})
        fields["units"] = f.radios.get("units") or self.link["units"]
        fields["mode"] = f.radios.get("mode") or "infer"
        if self.full_page or "modules" in f.boxes:  # (the embed has no training fields: the link's stay)
            fields["modules"] = ",".join(f.boxes.get("modules", []))
        if self.full_page or "dq" in f.checked:
            fields["dq"] = "1" if "dq" not in f.checked or f.checked["dq"] else "0"
        for name in CHECKBOXES:
            if name in f.checked:
                fields[name] = "1" if f.checked[name] else "0"
        for name in NUMBERS:
            if name in f.bad and name in fields:
                fields[name] = "not a number"
        if fields.get("model") == urlstate.CUSTOM:
            fields["cfg"] = self.custom_config()
        return fields

    def write_fields(self, fields: dict):
        for name in FORM_FIELDS:
            if name in fields and name in self.form.values:
                self.set_value(name, fields[name])
        for group, default in (("units", "GiB"), ("mode", "infer")):
            if group in self.form.radios:  # (the embed has no radios: GiB and inference)
                self.form.radios[group] = fields.get(group, default)
                self.put("radios", group, self.form.radios[group])
        if "modules" in self.form.boxes:
            modules = str(fields.get("modules", urlstate.DEFAULTS["modules"])).split(",")
            self.form.boxes["modules"] = [m for m in LORA_MODULES if m in modules]
            self.put("boxes", "modules", self.form.boxes["modules"])
        if "dq" in self.form.checked:
            self.set_checked("dq", str(fields.get("dq", "1")) != "0")
        for name in CHECKBOXES:
            if name in self.form.checked:
                self.set_checked(name, urlstate.flag(fields.get(name, "0")))
        if fields.get("model") == urlstate.CUSTOM and fields.get("cfg"):
            self.fill_custom(fields["cfg"])
        self.toggle_sections(fields)

    def toggle_sections(self, fields):
        for box_id, shown in (("custom-arch", fields.get("model") == urlstate.CUSTOM),
                              ("gpumem-field", fields.get("gpu") == urlstate.CUSTOM)):
            if self.full_page:
                self.set_hidden(box_id, not shown)
        mode = fields.get("mode", "infer")
        if mode != self.mode:  # the question asked changed: show its fields and rows
            self.mode = mode
            self.put("mode", mode)
            for name, text in LABELS[mode].items():
                self.put("text", f'label[for="{name}"]', text)

    def custom_config(self) -> str:
        values = {key: str(self.form.values.get("cfg_" + key, "")) for key in urlstate.CUSTOM_FIELDS}
        return urlstate.custom_config(values, bool(self.form.checked.get("cfg_tie_word_embeddings")),
                                      str(self.form.values.get("cfg_sliding_pattern", "none")))

    def fill_custom(self, config):
        values, tied, pattern = urlstate.custom_form(config)
        for key, value in values.items():
            self.set_value("cfg_" + key, value)
        self.set_checked("cfg_tie_word_embeddings", tied)
        self.set_value("cfg_sliding_pattern", pattern)

    # ---------------------------------------------------------------- recalculation

    def recompute(self, history="replace"):
        start = js.performance.now()
        fields = self.read_fields()
        self.toggle_sections(fields)
        training = fields["mode"] == urlstate.TRAINING and self.full_page
        spec = self.imported.spec if self.imported and fields["model"] == urlstate.IMPORTED else None
        e, errors = (urlstate.training_estimate_from_fields if training else urlstate.estimate_from_fields)(fields, spec)
        self.show_errors(errors)
        if errors:
            self.put("classes", "#results", "stale", True)
            self.set_hidden("stale-note", False)
            return
        self.put("classes", "#results", "stale", False)
        self.set_hidden("stale-note", True)
        self.system = V.system_of(fields["units"])
        self.estimate = e
        used = e.scenario.seq_len if training else e.scenario.context  # shown only while the field is empty
        if self.shown.get("#context.placeholder") != used:
            self.shown["#context.placeholder"] = used
            self.put("attrs", "#context", "placeholder", f"{used:,} (default)")
        if training:
            self.render_items(V.training_view(e, self.system), V.training_slots)
            self.render_notes(list(e.model.notes))
        else:
            self.render_main(e)
        self.update_url(fields, history)
        self.generation += 1
        self.put("recalc", js.performance.now() - start)  # read by bench/page.py
        self.schedule_secondary(self.generation)

    def show_errors(self, errors: dict):
        if self.visible is not None:  # the embed: a field it does not show cannot show its message
            unseen = "; ".join(f"{name}: {message}" for name, message in errors.items() if name not in self.visible)
            text = "Some inputs are not valid: showing the last valid result." + (
                f" From the link: {unseen[:300]}." if unseen else "")
            if self.shown.get("#stale-note") != text:
                self.shown["#stale-note"] = text
                self.set_text("stale-note", text)
        for name in list(FORM_FIELDS) + list(CHECKBOXES) + ["cfg", "modules"]:
            message = errors.get(name, "")
            if self.shown.get("error." + name, "") == message:
                continue
            self.shown["error." + name] = message
            self.set_text(name + "-error", message)
            self.set_hidden(name + "-error", not message)
            target = "#modules-field" if name == "modules" else "#" + name
            self.put("attrs", target, "aria-invalid", "true" if message else None)
            if message:
                self.put("reveal", target)

    def set_slot(self, name, text):
        if self.shown.get(name) != text:
            self.put("slots", name, text)
            self.shown[name] = text

    def render_main(self, e):
        v = V.estimate_view(e, self.system)
        self.render_items(v, V.slots)
        self.render_devices(v["devices"])
        self.render_notes(v["warnings"])
        self.render_engine(v)

    def render_engine(self, v):
        """The engine's settings shown for the engine that applies, its GPU / system-RAM figure and the log
        lines it will print (slots, filled by V.slots)."""
        if self.engine_shown != v["engine_name"]:
            self.engine_shown = v["engine_name"]
            self.put("engine", v["engine_name"])
        if not self.full_page:
            return
        self.set_hidden("engine-plan", bool(v["no_plan"]))
        self.set_hidden("engine-none", not v["no_plan"])
        self.put("attrs", "#engine-plan", "data-host-bytes", str(v["host_bytes"]))
        if v["placement_svg"] and self.shown.get("#placement") != v["placement_svg"]:
            self.shown["#placement"] = v["placement_svg"]
            self.put("svg", "#placement-chart", v["placement_svg"])

    def render_notes(self, warnings):
        """The estimate's warnings as a visible list (text only: a model name or field from a file never
        becomes markup)."""
        if not self.full_page or self.shown.get("#notes") == warnings:
            return
        self.shown["#notes"] = list(warnings)
        self.put("children", "#model-notes", [["li", {}, [str(text)]] for text in warnings])
        self.set_hidden("model-notes-box", not warnings)

    def render_items(self, v, slots_of):
        """The figures, verdict and bar of an inference or a training view."""
        for name, text in slots_of(v).items():
            self.set_slot(name, text)
        self.set_slot("size_heading", "Per GPU" if self.mode == urlstate.TRAINING else "Size")
        self.put("attrs", "#verdict", "data-state", v["verdict"]["state"])
        for it in v["items"] + [v["total"]]:
            self.put("attrs", f'[data-item="{_q(it["key"])}"]', "data-bytes", str(it["bytes"]))
        if self.shown.get("#bar") != v["bar_svg"]:
            self.shown["#bar"] = v["bar_svg"]
            self.put("svg", "#bar-chart", v["bar_svg"])

    def render_devices(self, devices):
        if not self.full_page:
            return
        self.set_hidden("devices", not devices)
        cells = ("weights", "kv_cache", "state", "activations", "overhead")
        rows = [["tr", {"data-device": d["index"], "class": d["fits"]}, [
            ["th", {"scope": "row"}, ["GPU ", ["span", {"data-field": "index"}, [d["index"]]]]],
            *(["td", {"class": "num", "data-field": key}, [d[key]]] for key in cells),
            ["td", {"class": "num strong", "data-field": "total", "data-bytes": str(d["total_bytes"])}, [d["total"]]],
        ]] for d in devices]
        self.put("children", "#devices-body", rows)

    SECONDARY = ("#answers", "#curve-section", "#formats-section")

    def schedule_secondary(self, generation):
        """Answers, the context curve and the format table: sent after the main figures. Until they are, their
        sections are marked busy (aria-busy, class `pending`: "updating…" by their heading if it lasts), never
        shown as current."""
        if not self.full_page:
            return
        self.mark_secondary(True)

        def later(*_):
            if generation == self.generation and self.estimate is not None:
                self.render_secondary(self.estimate)
                self.mark_secondary(False)
                self.flush()
        js.setTimeout(create_once_callable(later), 0)

    def mark_secondary(self, pending):
        if self.shown.get("secondary.pending") == pending:
            return
        self.shown["secondary.pending"] = pending
        for selector in self.SECONDARY:
            self.put("attrs", selector, "aria-busy", "true" if pending else None)
            self.put("classes", selector, "pending", pending)

    def render_secondary(self, e):
        if self.mode == urlstate.TRAINING:
            for key, text in V.training_answers(e).items():
                self.set_slot("answer." + key, text)
            return
        for key, text in V.answers_view(e, self.system).items():
            self.set_slot("answer." + key, text)
        curve = context_curve(e, self.system)
        if self.shown.get("#curve") != curve:
            self.shown["#curve"] = curve
            self.put("svg", "#curve-chart", curve)
        rows = V.formats_view(e, self.system)["rows"]
        for name in FORMAT_NAMES:
            r = rows.get(name)
            state = [r is not None, bool(r and r["best"])]
            if self.shown.get("fmt." + name) != state:
                self.shown["fmt." + name] = state
                self.put("formats", name, state)
            if r is None:
                continue
            self.set_slot(f"fmt.{name}.bpw", r["bpw"])
            self.set_slot(f"fmt.{name}.size", r["size"])
            self.set_slot(f"fmt.{name}.fit", r["fit"] + (" — best" if r["best"] else ""))

    def update_url(self, fields, history):
        query = "?" + urlstate.to_query(fields) + self.hub_query(fields)
        self.put("link", query)
        if not self.full_page:  # an embed must not add entries to its host page's history
            self.put("attrs", "#open-full", "href", "./" + query)
            return
        if query != self.search and history in ("push", "replace"):
            self.search = query
            self.put("history", history, query)

    # ---------------------------------------------------------------- events in

    def receive(self, batch_json, files=None):
        """A batch of the page's events, in order: inputs are taken together and computed once."""
        pending = None  # the history entry of the recalculation the inputs so far ask for
        for event in json.loads(batch_json):
            kind = event.get("t")
            if kind in ("input", "change"):
                self.ack = max(self.ack, int(event.get("seq", 0)))
                asked = self.on_input(event)
                if asked:
                    pending = "push" if "push" in (asked, pending) else asked
                continue
            if pending:  # a click or a file works on the figures shown
                self.recompute(pending)
                pending = None
            if kind == "popstate":
                self.search = str(event.get("search", ""))
                self.write_fields(urlstate.parse_query(self.search))
                self.recompute(history="none")
            elif kind == "click":
                self.on_click(event.get("id", ""))
            elif kind == "files" and files is not None:
                asyncio.ensure_future(self.guard(self.on_model_file(files)))
        if pending:
            self.recompute(pending)
        self.flush()

    async def guard(self, job):
        """Run a file or Hub read; what it sends reaches the page, and a failure is an error in the console."""
        try:
            await job
        except Exception:
            import traceback
            js.console.error("The page's Python failed: " + traceback.format_exc())
        finally:
            self.flush()

    def on_input(self, event):
        """Take one input; the history entry it asks for ("push", "none"), or None when nothing is computed."""
        self.form.take(event)
        target_id, name = str(event.get("id", "")), str(event.get("name", ""))
        if not (target_id in FORM_FIELDS or target_id in CHECKBOXES or target_id.startswith("cfg_")
                or target_id == "dq" or name in ("units", "mode", "modules")):
            return None
        value = str(event.get("value", ""))
        if target_id == "model" and value == urlstate.CUSTOM and self.estimate is not None:
            spec = self.estimate.model
            self.fill_custom(urlstate.config_of_spec(spec))
            self.set_value("name", spec.name + " (custom)")
        if target_id == "model":
            self.hub.cancel()  # a Hub read in progress is for the model that was chosen before
            if value != urlstate.IMPORTED:
                self.hub_ref = ""
            # a preset shipped quantized starts in its checkpoint's format (gpt-oss: MXFP4)
            self.set_value("weights", urlstate.shipped_weights(value, str(self.form.values.get("weights", ""))))
        if target_id == "model" or name == "mode":
            self.set_value("context", "")  # each model and question starts from its own sensible length
        # Typing recalculates at once; a committed change (select, blur, Enter) becomes a history entry.
        return "push" if event.get("t") == "change" else "none"

    def on_click(self, button):
        handler = {"export-json": self.export_json, "export-md": self.export_markdown,
                   "embed-code": self.show_embed_code, "use-config": self.on_use_config,
                   "hwfirst-run": self.list_fitting}.get(button)
        if handler is not None:
            handler()
        elif button == "hub-load":
            asyncio.ensure_future(self.guard(self.load_hub(str(self.form.values.get("hub-id", "")).strip())))

    def hub_query(self, fields) -> str:
        """A model read from the Hub is not in the link's fields: its id is (hf=), and opening the link reads
        the headers again. Never a token."""
        if self.hub_ref and fields.get("model") == urlstate.IMPORTED:
            return "&" + urlencode({"hf": self.hub_ref})
        return ""

    def download(self, text, name, mime):
        self.put("download", text, name, mime)
        self.set_text("action-status", f"Saved {name}.")

    def export_json(self):
        if self.estimate is not None:
            data = training_dict(self.estimate) if self.mode == urlstate.TRAINING else estimate_dict(self.estimate)
            if self.hub_ref and self.hub_source and self.read_fields().get("model") == urlstate.IMPORTED:
                data["source"] = self.hub_source  # as the CLI's --json (no token: the page has none)
            self.download(json.dumps(data, indent=2), "llm-memory.json", "application/json")

    def export_markdown(self):
        if self.estimate is not None:
            text = (training_markdown(self.estimate) if self.mode == urlstate.TRAINING
                    else estimate_markdown(self.estimate, self.system))
            self.download(text, "llm-memory.md", "text/markdown")

    def show_embed_code(self):
        page_dir = self.href.split("?")[0].split("#")[0].rsplit("/", 1)[0] + "/"
        if page_dir.startswith(("http://", "https://")):
            snippet = urlstate.embed_snippet(page_dir, self.read_fields())
        else:  # the single file opened from disk: another page cannot frame a file: URL
            snippet = ("No embed code from a page opened as a file: serve the calculator (make serve) or open its "
                       "hosted copy, and ask for the code there.")
        self.set_value("embed-snippet", snippet)
        self.set_hidden("embed-box", False)
        self.put("focus", "embed-snippet")

    def list_fitting(self):
        """The hardware-first panel (issue #13): computed on request only, never at start-up."""
        try:
            rows, text = V.hwfirst_rows(self.read_fields(), str(self.form.values.get("hwfirst-ram", "0")),
                                        str(self.form.values.get("hwfirst-host", "")))
        except InputError as err:
            self.set_text("hwfirst-note", err.message)
            self.set_hidden("hwfirst-table", True)
            return
        numeric = ("params", "memory", "decode", "prefill")
        self.put("children", "#hwfirst-body", [["tr", {}, [
            ["th", {"scope": "row"}, [r["model"]]],
            *(["td", {"class": "num"} if key in numeric else {}, [r[key]]]
              for key in ("format", "params", "memory", "where", "decode", "prefill"))]] for r in rows])
        self.set_hidden("hwfirst-table", not rows)
        self.set_text("hwfirst-note", text)

    # ---------------------------------------------------------------- the user's own model

    async def read_files(self, files):
        """Read only as much of each file as its header needs: start with 1 MiB, grow when asked."""
        files = [files[i] for i in range(files.length)]
        ends = {str(f.name): min(int(f.size), 1 << 20) for f in files}
        have = {str(f.name): b"" for f in files}  # what was read so far: only the missing part is sliced
        for _ in range(40):
            readers = []
            for f in files:
                name = str(f.name)
                if len(have[name]) < ends[name]:
                    have[name] += (await f.slice(len(have[name]), ends[name]).arrayBuffer()).to_bytes()
                readers.append((name, BytesReader(have[name], file_size=int(f.size), name=name)))
            read = sum(len(b) for b in have.values())
            try:
                return read_model_files(readers), read
            except NeedMoreBytes as more:
                name = str(getattr(more.reader, "name", "")) or str(files[0].name)
                ends[name] = min(next(int(f.size) for f in files if str(f.name) == name), more.suggested_end)
        raise ModelFileError("the header keeps growing: not a model file this page can read")

    async def on_model_file(self, files):
        if not files or files.length == 0:
            return
        self.import_status("Reading the header…", "model-file")
        self.mark("import:start")  # bench/import.py times the page with these marks
        self.flush()
        try:
            imported, read = await self.read_files(files)
        except (ModelFileError, InputError) as err:
            self.import_status("", "model-file", str(err))
            return
        self.use_imported(imported, f"Read {imported.title}: {read:,} bytes of the files' headers, on this device.")
        self.mark("import:end")
        self.put("root", "importRead", str(read))

    def mark(self, name):
        self.out.setdefault("marks", []).append([name, js.performance.timeOrigin + js.performance.now()])

    def on_use_config(self):
        text = str(self.form.values.get("config-text", ""))
        try:
            data = text.encode("utf-8")
            imported = read_model_files([("pasted config.json", BytesReader(data))])
        except (ModelFileError, InputError, UnicodeError) as err:
            self.import_status("", "config-text", str(err))
            return
        self.use_imported(imported, "Using the pasted config.json.")

    async def load_hub(self, text, link_fields=None):
        """Read a Hub model's config and headers (HubReader); a link's own fields are applied after."""
        try:
            ref = parse_ref(text)
        except HubError as err:
            self.import_status("", "hub-id", err.message)
            return
        self.set_hidden("hub-progress", False)
        self.put("attrs", "#hub-progress", "value", None)

        def step(text, stats, done, total):
            self.import_status(f"Reading {ref} from the Hugging Face Hub: {text}… "
                               f"({stats['bytes']:,} bytes, {stats['requests']} requests)", "hub-id")
            if total:
                self.put("attrs", "#hub-progress", "max", str(total))
                self.put("attrs", "#hub-progress", "value", str(done))
            self.flush()
        self.mark("import:start")
        try:
            read, stats = await self.hub.run(hub_plan(ref, HUB_ENDPOINT), step)
        except HubCancelled:
            self.import_status(f"Stopped reading {ref}: the model was changed.", "")
            return
        except (ModelFileError, InputError) as err:
            self.import_status("", "hub-id", err.message)
            return
        finally:
            self.set_hidden("hub-progress", True)
            self.put("root", "hubRead", str(self.hub.stats.get("bytes", 0)))  # tests read it
        self.mark("import:end")
        what = (f"{ref}: {len(read.files)} files, {stats['bytes']:,} bytes read in {stats['requests']} requests"
                + (" (the rest from memory)" if stats["cached"] else ""))
        imported = replace(read.imported, facts=tuple(read.imported.facts) + (("Read from the Hub", what),))
        self.put("root", "importRead", str(stats["bytes"]))
        self.put("root", "hubRequests", str(stats["requests"]))
        self.hub_ref = str(ref)
        self.hub_source = {"kind": read.kind, "repo": read.repo or None, "revision": read.revision or None,
                           "files": list(read.files), "bytes_read": stats["bytes"], "requests": stats["requests"]}
        self.use_imported(imported, f"Read {what}.")
        if link_fields is not None:
            self.write_fields(dict(link_fields, model=urlstate.IMPORTED))
            self.recompute("replace")

    def import_status(self, text, field, error=""):
        self.set_text("import-status", text)
        for name in ("model-file", "config-text", "hub-id"):
            self.set_text(name + "-error", error if name == field else "")
            self.set_hidden(name + "-error", not (error and name == field))

    def use_imported(self, imported, status):
        self.imported = imported
        self.import_status(status, "")
        self.render_import(imported)
        if imported.spec is None:
            return  # safetensors headers alone: the report says what is missing
        self.set_text("imported-option", imported.spec.name)
        self.set_hidden("imported-option", False)
        self.set_value("model", urlstate.IMPORTED)
        self.put("attrs", '#weights option[value="file"]', "disabled", None if imported.weights == "file" else "")
        self.set_value("weights", imported.weights)
        self.set_value("context", "")
        self.recompute("push")

    def render_import(self, imported):
        self.set_hidden("import-report", False)
        self.set_text("import-title", imported.title)
        self.fill_facts("import-facts", imported.facts)
        self.fill_facts("import-exact", [(name, f"{value} ({where})") for name, value, where in imported.exact])
        self.fill_facts("import-derived", [(name, f"{value} ({how})") for name, value, how in imported.derived])
        self.put("children", "#import-mix tbody", [["tr", {}, [
            ["th", {"scope": "row"}, [str(label)]], ["td", {"class": "num"}, [f"{count:,}"]],
            ["td", {"class": "num"}, [f"{elements:,}"]], ["td", {"class": "num"}, [f"{size:,}"]]]]
            for label, count, elements, size in imported.mix])
        self.put("children", "#import-notes", [["li", {}, [str(note)]] for note in imported.notes])

    def fill_facts(self, dl_id, pairs):
        nodes = []
        for label, value in pairs:
            nodes += [["dt", {}, [str(label)]], ["dd", {}, [str(value)]]]
        self.put("children", "#" + dl_id, nodes)

    def start(self, queued):
        """The first render: the link's fields, then what was typed while Python started, computed once."""
        query = self.search
        hub_id = (parse_qs(query.lstrip("?")).get("hf") or [""])[0][:200]
        link_fields = None
        if not self.full_page:
            self.put("show", list(urlstate.shown_fields(query)))
        try:
            if query:
                fields = urlstate.parse_query(query)
                if hub_id and fields.get("model") == urlstate.IMPORTED:  # shown once the headers are read again
                    link_fields, fields = fields, dict(fields, model=urlstate.DEFAULTS["model"])
                self.write_fields(fields)
            history = "replace"
            for event in queued:  # (inputs only: the worker keeps clicks and files for after the start)
                self.ack = max(self.ack, int(event.get("seq", 0)))
                if self.on_input(event) == "push":
                    history = "push"
            self.recompute(history=history)
        except InputError as err:  # a link with fields pycore refuses: show them at their fields
            self.show_errors({err.field: err.message})
        self.put("root", "py", "ready")
        self.mark("app:ready")
        self.set_text("py-status-text", "Ready: every input recalculates as you type.")
        if link_fields is not None and self.has("hub-id"):
            self.set_value("hub-id", hub_id)
            self.put("attrs", "#import-box", "open", "")
            asyncio.ensure_future(self.guard(self.load_hub(hub_id, link_fields)))
        self.flush()


def main(post, init_json, queued_json="[]"):
    """Start the page's Python: `post(text)` hands an update to the page; returns the function that takes the
    page's events (a JSON list, and the files of a "files" event)."""
    global js
    import js as scope
    js = scope
    init = json.loads(init_json)
    page = Page(post, init)
    page.start(json.loads(queued_json))
    return create_proxy(page.receive)

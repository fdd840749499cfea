"""The page's Python: reads the form, asks pycore, fills the page's slots. It computes nothing itself.

Every figure comes from pycore.view, the same function that rendered the HTML at build time.
Text goes in with textContent only; charts arrive as SVG parsed as XML, never as HTML.
"""
import asyncio
import json
import re
from dataclasses import replace
from urllib.parse import parse_qs, urlencode

from pyodide.ffi import create_once_callable, create_proxy, to_js
from pyscript import document, window

window.performance.mark("app:start")
from pycore import InputError  # noqa: E402
from pycore import urlstate
from pycore import view as V
from pycore.charts import context_curve
from pycore.errors import ModelFileError
from pycore.importers import read_model_files
from pycore.importers.hub import (DEFAULT_ENDPOINT, MAX_BYTES, MAX_REQUESTS, RETRIES, Got, HubAuthError, HubError,
                                  HubLimitError, HubNotFound, HubRangeError, HubTransferError, hub_plan,
                                  parse_content_range, parse_ref)
from pycore.importers.reader import BytesReader, NeedMoreBytes
from pycore.report import estimate_dict, estimate_markdown  # noqa: E402
from pycore.training import training_dict, training_markdown  # noqa: E402

window.performance.mark("app:imported")

FORM_FIELDS = ("model", "weights", "kv", "batch", "context", "gpu", "gpus", "parallel", "engine", "act", "kvm",
               "overhead", "gpumem", "chunk", "name",
               "flash_attn", "ubatch", "ngl", "n_cpu_moe", "ram", "gpu_memory_utilization", "max_num_batched_tokens",
               "max_num_seqs", "speculative_method", "num_speculative_tokens", "draft_model", "data_parallel_size",
               "tensor_split",
               "method", "rank", "precision", "optimizer", "ckpt", "zero", "fsdp", "tp")
CHECKBOXES = ("swa_full", "no_kv_offload", "enable_expert_parallel")  # engine switches: "1" checked, "0" not
NUMBERS = ("batch", "context", "gpus", "overhead", "gpumem", "chunk", "ubatch", "ngl", "n_cpu_moe", "ram",
           "gpu_memory_utilization", "max_num_batched_tokens", "max_num_seqs", "num_speculative_tokens",
           "data_parallel_size")
# The two fields whose meaning changes with the question asked
LABELS = {"infer": {"batch": "Batch size", "context": "Context length"},
          "train": {"batch": "Micro-batch size", "context": "Sequence length"}}


def el(element_id):
    """The element, or None. (Pyodide hands JavaScript's null over as a falsy `jsnull`, not None.)"""
    return document.getElementById(element_id) or None


# ---------------------------------------------------------------- the Hub (range reads with fetch)

HUB_ENDPOINT = DEFAULT_ENDPOINT
HUB_TIMEOUT_MS = 30_000  # one request, body included; tests lower it (window.llmHubTimeoutMs)


class HubCancelled(Exception):
    """The user changed the model (or asked for another) while headers were being read."""


class HubReader:
    """The page's remote byte reader: answers a pycore.importers.hub plan's Needs with `fetch` and a
    `Range` header, under the CLI's limits (hub.MAX_BYTES, MAX_REQUESTS, RETRIES; a deadline per request),
    with the same typed errors. What was read stays in memory (`cache`), so reading a model again costs
    nothing. No token is ever sent: the page reads public repos only."""

    def __init__(self):
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
            step(need.step, stats, done - 1, total)
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
        controller = self.controller = window.AbortController.new()
        timed_out = []

        def expire(*_):
            timed_out.append(True)
            controller.abort()
        timer = window.setTimeout(create_once_callable(expire), int(getattr(window, "llmHubTimeoutMs", None)
                                                                        or HUB_TIMEOUT_MS))
        stats["requests"] += 1
        try:
            options = to_js({"headers": {"Range": f"bytes={start}-{end - 1}"}, "signal": controller.signal,
                             "credentials": "omit", "referrerPolicy": "no-referrer"},
                            dict_converter=window.Object.fromEntries)
            try:
                response = await window.fetch(url, options)
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
            window.clearTimeout(timer)

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


class Page:
    def __init__(self):
        self.slots = {e.dataset.slot: e for e in document.querySelectorAll("[data-slot]")}
        self.shown = {}  # slot -> text last written, so unchanged slots cost nothing
        self.inputs = {name: el(name) for name in FORM_FIELDS}
        self.full_page = document.documentElement.getAttribute("data-page") != "embed"  # the embed shows less
        self.results = el("results")
        self.estimate = None  # the last valid estimate
        self.generation = 0  # increments per recalculation; late secondary work checks it
        self.mode = None  # the question shown: "infer" or "train"
        self.imported = None  # ImportedModel read from the user's files
        self.hub = HubReader()
        self.hub_ref = ""  # the Hub model the imported one was read from: links carry it (hf=)
        self.hub_source = None  # what was read for it, as the CLI's --json "source"
        self.proxies = []

    # ---------------------------------------------------------------- form <-> fields

    def read_fields(self) -> dict:
        fields = {name: str(node.value) for name, node in self.inputs.items() if node is not None}
        checked = document.querySelector('input[name="units"]:checked')
        fields["units"] = checked.value if checked else "GiB"
        mode = document.querySelector('input[name="mode"]:checked')
        fields["mode"] = str(mode.value) if mode else "infer"
        fields["modules"] = ",".join(str(box.value) for box in document.querySelectorAll('input[name="modules"]:checked'))
        dq = el("dq")
        fields["dq"] = "1" if dq is None or dq.checked else "0"
        for name in CHECKBOXES:
            box = el(name)
            if box is not None:
                fields[name] = "1" if box.checked else "0"
        for name in NUMBERS:
            node = self.inputs.get(name)
            if node is not None and node.validity.badInput:
                fields[name] = "not a number"
        if fields["model"] == urlstate.CUSTOM:
            fields["cfg"] = self.custom_config()
        return fields

    def write_fields(self, fields: dict):
        for name, node in self.inputs.items():
            if name in fields and node is not None:
                node.value = fields[name]
        for radio in document.querySelectorAll('input[name="units"]'):
            radio.checked = radio.value == fields.get("units", "GiB")
        for radio in document.querySelectorAll('input[name="mode"]'):
            radio.checked = radio.value == fields.get("mode", "infer")
        modules = str(fields.get("modules", urlstate.DEFAULTS["modules"])).split(",")
        for box in document.querySelectorAll('input[name="modules"]'):
            box.checked = str(box.value) in modules
        if el("dq") is not None:
            el("dq").checked = str(fields.get("dq", "1")) != "0"
        for name in CHECKBOXES:
            if el(name) is not None:
                el(name).checked = urlstate.flag(fields.get(name, "0"))
        if fields.get("model") == urlstate.CUSTOM and fields.get("cfg"):
            self.fill_custom(fields["cfg"])
        self.toggle_sections(fields)

    def toggle_sections(self, fields):
        for box_id, shown in (("custom-arch", fields.get("model") == urlstate.CUSTOM),
                              ("gpumem-field", fields.get("gpu") == urlstate.CUSTOM)):
            box = el(box_id)
            if box is not None:
                box.hidden = not shown
        mode = fields.get("mode", "infer")
        if mode != self.mode:  # the question asked changed: show its fields and rows
            self.mode = mode
            for node in document.querySelectorAll("[data-mode]"):
                node.hidden = str(node.dataset.mode) != mode
            for name, text in LABELS[mode].items():
                label = document.querySelector(f'label[for="{name}"]')
                if label:
                    label.textContent = text

    def custom_config(self) -> str:
        values = {key: str(el("cfg_" + key).value) for key in urlstate.CUSTOM_FIELDS}
        return urlstate.custom_config(values, bool(el("cfg_tie_word_embeddings").checked),
                                      str(el("cfg_sliding_pattern").value))

    def fill_custom(self, config):
        values, tied, pattern = urlstate.custom_form(config)
        for key, value in values.items():
            el("cfg_" + key).value = value
        el("cfg_tie_word_embeddings").checked = tied
        el("cfg_sliding_pattern").value = pattern

    # ---------------------------------------------------------------- recalculation

    def recompute(self, history="replace"):
        start = window.performance.now()
        fields = self.read_fields()
        self.toggle_sections(fields)
        training = fields["mode"] == urlstate.TRAINING and self.full_page
        spec = self.imported.spec if self.imported and fields["model"] == urlstate.IMPORTED else None
        e, errors = (urlstate.training_estimate_from_fields if training else urlstate.estimate_from_fields)(fields, spec)
        self.show_errors(errors)
        if errors:
            self.results.classList.add("stale")
            el("stale-note").hidden = False
            return
        self.results.classList.remove("stale")
        el("stale-note").hidden = True
        self.system = V.system_of(fields["units"])
        self.estimate = e
        if training:
            self.render_items(V.training_view(e, self.system), V.training_slots)
            self.render_notes(list(e.model.notes))
        else:
            self.render_main(e)
        self.update_url(fields, history)
        self.generation += 1
        window.llmRecalcMs.push(window.performance.now() - start)  # read by bench/page.py
        self.schedule_secondary(self.generation)

    def show_errors(self, errors: dict):
        for name in list(FORM_FIELDS) + list(CHECKBOXES) + ["cfg", "modules"]:
            message = errors.get(name, "")
            box = el(name + "-error")
            if box is not None:
                box.textContent = message
                box.hidden = not message
            node = self.inputs.get(name) or el(name)
            if node is not None:
                if message:
                    node.setAttribute("aria-invalid", "true")
                    self.reveal(node)
                else:
                    node.removeAttribute("aria-invalid")

    def reveal(self, node):
        """A field with a message is shown, even when it sits in a closed "More settings" or in another
        engine's settings (a link's ngl=-1, a bad value typed before the engine changed)."""
        box = node.closest("[data-engines]")
        if box:
            box.hidden = False
        details = node.closest("details")
        if details:
            details.open = True

    def set_slot(self, name, text):
        node = self.slots.get(name)
        if node is not None and self.shown.get(name) != text:
            node.textContent = text
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
        for box in document.querySelectorAll("[data-engines]"):
            box.hidden = v["engine_name"] not in str(box.dataset.engines).split()
        plan_box, none = el("engine-plan"), el("engine-none")
        if plan_box is None:
            return
        plan_box.hidden, none.hidden = bool(v["no_plan"]), not v["no_plan"]
        plan_box.dataset.hostBytes = str(v["host_bytes"])
        if v["placement_svg"] and self.shown.get("#placement") != v["placement_svg"]:
            self.shown["#placement"] = v["placement_svg"]
            self.put_svg(el("placement-chart"), v["placement_svg"])

    def render_notes(self, warnings):
        """The estimate's warnings as a visible list (textContent only: a model name or field from a
        file never becomes markup)."""
        box, ul = el("model-notes-box"), el("model-notes")
        if box is None or ul is None:
            return
        if self.shown.get("#notes") == warnings:
            return
        self.shown["#notes"] = list(warnings)
        ul.replaceChildren()
        for text in warnings:
            item = document.createElement("li")
            item.textContent = text
            ul.appendChild(item)
        box.hidden = not warnings

    def render_items(self, v, slots_of):
        """The figures, verdict and bar of an inference or a training view."""
        for name, text in slots_of(v).items():
            self.set_slot(name, text)
        self.set_slot("size_heading", "Per GPU" if self.mode == urlstate.TRAINING else "Size")
        el("verdict").dataset.state = v["verdict"]["state"]
        for it in v["items"] + [v["total"]]:
            document.querySelector(f'[data-item="{it["key"]}"]').dataset.bytes = str(it["bytes"])
        self.put_svg(el("bar-chart"), v["bar_svg"])

    def render_devices(self, devices):
        box = el("devices")
        if box is None:
            return
        box.hidden = not devices
        body = el("devices-body")
        body.replaceChildren()
        template = el("device-row")
        for d in devices:
            row = template.content.firstElementChild.cloneNode(True)
            row.dataset.device = d["index"]
            row.className = d["fits"]
            for cell in row.querySelectorAll("[data-field]"):
                cell.textContent = d[cell.dataset.field]
            row.querySelector('[data-field="total"]').dataset.bytes = str(d["total_bytes"])
            body.appendChild(row)

    def put_svg(self, container, svg_text):
        parsed = window.DOMParser.new().parseFromString(svg_text, "image/svg+xml")
        if not parsed.querySelector("parsererror"):
            container.replaceChildren(document.importNode(parsed.documentElement, True))

    def schedule_secondary(self, generation):
        """Answers, the context curve and the format table: after the main figures are on screen."""
        if not self.full_page:
            return
        def later(*_):
            if generation == self.generation:
                self.render_secondary(self.estimate)
        proxy = create_proxy(later)
        self.proxies = self.proxies[-8:] + [proxy]
        window.setTimeout(proxy, 0)

    def render_secondary(self, e):
        if self.mode == urlstate.TRAINING:
            for key, text in V.training_answers(e).items():
                self.set_slot("answer." + key, text)
            return
        for key, text in V.answers_view(e, self.system).items():
            self.set_slot("answer." + key, text)
        self.put_svg(el("curve-chart"), context_curve(e, self.system))
        rows = V.formats_view(e, self.system)["rows"]
        for row in document.querySelectorAll("#formats-table tbody tr"):
            r = rows.get(row.dataset.format)
            row.hidden = r is None
            if r is None:
                continue
            row.className = "best" if r["best"] else ""
            name = row.dataset.format
            self.set_slot(f"fmt.{name}.bpw", r["bpw"])
            self.set_slot(f"fmt.{name}.size", r["size"])
            self.set_slot(f"fmt.{name}.fit", r["fit"] + (" — best" if r["best"] else ""))

    def update_url(self, fields, history):
        query = "?" + urlstate.to_query(fields) + self.hub_query(fields)
        if not self.full_page:  # an embed must not add entries to its host page's history
            link = el("open-full")
            if link is not None:
                link.href = "./" + query
            return
        if query != str(window.location.search):
            if history == "push":
                window.history.pushState(None, "", query)
            elif history == "replace":
                window.history.replaceState(None, "", query)

    # ---------------------------------------------------------------- events

    def on(self, target, event, handler):
        proxy = create_proxy(handler)
        self.proxies.append(proxy)
        target.addEventListener(event, proxy)

    def on_input(self, event):
        target_id = str(event.target.id)
        if not (target_id in self.inputs or target_id in CHECKBOXES or target_id.startswith("cfg_") or target_id == "model-search"
                or str(event.target.name) in ("units", "mode", "modules")):
            return
        if target_id == "model-search":
            self.filter_models(str(event.target.value))
            return
        if target_id == "model" and str(event.target.value) == urlstate.CUSTOM and self.estimate is not None:
            spec = self.estimate.model
            self.fill_custom(urlstate.config_of_spec(spec))
            el("name").value = spec.name + " (custom)"
        if target_id == "model":
            self.hub.cancel()  # a Hub read in progress is for the model that was chosen before
            if str(event.target.value) != urlstate.IMPORTED:
                self.hub_ref = ""
            # a preset shipped quantized starts in its checkpoint's format (gpt-oss: MXFP4)
            self.inputs["weights"].value = urlstate.shipped_weights(str(event.target.value),
                                                                    str(self.inputs["weights"].value))
        if target_id == "model" or str(event.target.name) == "mode":
            self.inputs["context"].value = ""  # each model and question starts from its own sensible length
        # Typing recalculates at once; a committed change (select, blur, Enter) becomes a history entry.
        self.recompute("push" if str(event.type) == "change" else "none")

    def filter_models(self, query):
        words = [w for w in query.lower().split() if w]
        for option in el("model").querySelectorAll("option"):
            text = (str(option.textContent) + " " + str(option.value)).lower()
            option.hidden = bool(words) and not all(w in text for w in words) and option.value != "custom"

    def on_popstate(self, _event):
        self.write_fields(urlstate.parse_query(str(window.location.search)))
        self.recompute(history="none")

    def hub_query(self, fields) -> str:
        """A model read from the Hub is not in the link's fields: its id is (hf=), and opening the link reads
        the headers again. Never a token."""
        if self.hub_ref and fields.get("model") == urlstate.IMPORTED:
            return "&" + urlencode({"hf": self.hub_ref})
        return ""

    def copy_link(self, _event):
        fields = self.read_fields()
        url = (str(window.location.origin) + str(window.location.pathname) + "?" + urlstate.to_query(fields)
               + self.hub_query(fields))
        self.to_clipboard(url, "action-status", "Link copied.",
                          "Could not reach the clipboard: the link is in the address bar.")

    def copy_log(self, _event):
        self.to_clipboard(str(el("engine-log").textContent), "log-status", "Log lines copied.",
                          "Could not reach the clipboard: select the lines and copy them.")

    @staticmethod
    def to_clipboard(text, status_id, copied, refused):
        def done(*_):
            el(status_id).textContent = copied

        def failed(*_):
            el(status_id).textContent = refused
        try:
            window.navigator.clipboard.writeText(text).then(create_proxy(done), create_proxy(failed))
        except Exception:  # no clipboard API (non-secure context)
            failed()

    def download(self, text, name, mime):
        blob = window.Blob.new([text], {"type": mime})
        url = window.URL.createObjectURL(blob)
        link = document.createElement("a")
        link.href, link.download = url, name
        document.body.appendChild(link)
        link.click()
        link.remove()
        window.setTimeout(create_proxy(lambda *_: window.URL.revokeObjectURL(url)), 1000)
        el("action-status").textContent = f"Saved {name}."

    def export_json(self, _event):
        if self.estimate is not None:
            data = training_dict(self.estimate) if self.mode == urlstate.TRAINING else estimate_dict(self.estimate)
            if self.hub_ref and self.hub_source and self.read_fields().get("model") == urlstate.IMPORTED:
                data["source"] = self.hub_source  # as the CLI's --json (no token: the page has none)
            self.download(json.dumps(data, indent=2), "llm-memory.json", "application/json")

    def export_markdown(self, _event):
        if self.estimate is not None:
            text = (training_markdown(self.estimate) if self.mode == urlstate.TRAINING
                    else estimate_markdown(self.estimate, self.system))
            self.download(text, "llm-memory.md", "text/markdown")

    def show_embed_code(self, _event):
        page_dir = str(window.location.href).split("?")[0].rsplit("/", 1)[0] + "/"
        box = el("embed-snippet")
        box.value = urlstate.embed_snippet(page_dir, self.read_fields())
        el("embed-box").hidden = False
        box.focus()
        box.select()

    def list_fitting(self, _event):
        """The hardware-first panel (issue #13): computed on request only, never at start-up."""
        note, body, table = el("hwfirst-note"), el("hwfirst-body"), el("hwfirst-table")
        try:
            rows, text = V.hwfirst_rows(self.read_fields(), str(el("hwfirst-ram").value), str(el("hwfirst-host").value))
        except InputError as err:
            note.textContent = err.message
            table.hidden = True
            return
        body.replaceChildren()
        for r in rows:
            tr = document.createElement("tr")
            for key in ("model", "format", "params", "memory", "where", "decode", "prefill"):
                cell = document.createElement("th" if key == "model" else "td")
                if key == "model":
                    cell.setAttribute("scope", "row")
                elif key in ("params", "memory", "decode", "prefill"):
                    cell.className = "num"
                cell.textContent = r[key]
                tr.appendChild(cell)
            body.appendChild(tr)
        table.hidden = not rows
        note.textContent = text

    # ---------------------------------------------------------------- the user's own model

    async def read_files(self, files):
        """Read only as much of each file as its header needs: start with 1 MiB, grow when asked."""
        files = [files.item(i) for i in range(files.length)]
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

    async def on_model_file(self, event):
        files = event.target.files
        if not files or files.length == 0:
            return
        self.import_status("Reading the header…", "model-file")
        window.performance.mark("import:start")  # bench/import.py times the page with these marks
        try:
            imported, read = await self.read_files(files)
        except (ModelFileError, InputError) as err:
            self.import_status("", "model-file", str(err))
            return
        self.use_imported(imported, f"Read {imported.title}: {read:,} bytes of the files' headers, on this device.")
        window.performance.mark("import:end")
        document.documentElement.dataset.importRead = str(read)

    def on_use_config(self, _event):
        text = str(el("config-text").value)
        try:
            data = text.encode("utf-8")
            imported = read_model_files([("pasted config.json", BytesReader(data))])
        except (ModelFileError, InputError, UnicodeError) as err:
            self.import_status("", "config-text", str(err))
            return
        self.use_imported(imported, "Using the pasted config.json.")

    async def on_hub_load(self, _event):
        await self.load_hub(str(el("hub-id").value).strip())

    async def load_hub(self, text, link_fields=None):
        """Read a Hub model's config and headers (HubReader); a link's own fields are applied after."""
        try:
            ref = parse_ref(text)
        except HubError as err:
            self.import_status("", "hub-id", err.message)
            return
        progress = el("hub-progress")
        progress.hidden = False
        progress.removeAttribute("value")

        def step(text, stats, done, total):
            self.import_status(f"Reading {ref} from the Hugging Face Hub: {text}… "
                               f"({stats['bytes']:,} bytes, {stats['requests']} requests)", "hub-id")
            if total:
                progress.max, progress.value = total, done
        window.performance.mark("import:start")
        try:
            read, stats = await self.hub.run(hub_plan(ref, HUB_ENDPOINT), step)
        except HubCancelled:
            self.import_status(f"Stopped reading {ref}: the model was changed.", "")
            return
        except (ModelFileError, InputError) as err:
            self.import_status("", "hub-id", err.message)
            return
        finally:
            progress.hidden = True
            document.documentElement.dataset.hubRead = str(self.hub.stats.get("bytes", 0))  # tests read it
        window.performance.mark("import:end")
        what = (f"{ref}: {len(read.files)} files, {stats['bytes']:,} bytes read in {stats['requests']} requests"
                + (" (the rest from memory)" if stats["cached"] else ""))
        imported = replace(read.imported, facts=tuple(read.imported.facts) + (("Read from the Hub", what),))
        document.documentElement.dataset.importRead = str(stats["bytes"])
        document.documentElement.dataset.hubRequests = str(stats["requests"])
        self.hub_ref = str(ref)
        self.hub_source = {"kind": read.kind, "repo": read.repo or None, "revision": read.revision or None,
                           "files": list(read.files), "bytes_read": stats["bytes"], "requests": stats["requests"]}
        self.use_imported(imported, f"Read {what}.")
        if link_fields is not None:
            self.write_fields(dict(link_fields, model=urlstate.IMPORTED))
            self.recompute("replace")

    def import_status(self, text, field, error=""):
        el("import-status").textContent = text
        for name in ("model-file", "config-text", "hub-id"):
            box = el(name + "-error")
            box.textContent = error if name == field else ""
            box.hidden = not (error and name == field)

    def use_imported(self, imported, status):
        self.imported = imported
        self.import_status(status, "")
        self.render_import(imported)
        if imported.spec is None:
            return  # safetensors headers alone: the report says what is missing
        option = el("imported-option")
        option.textContent = imported.spec.name
        option.hidden = False
        self.inputs["model"].value = urlstate.IMPORTED
        file_option = document.querySelector('#weights option[value="file"]')
        file_option.disabled = imported.weights != "file"
        self.inputs["weights"].value = imported.weights
        self.inputs["context"].value = ""
        self.recompute("push")

    def render_import(self, imported):
        el("import-report").hidden = False
        el("import-title").textContent = imported.title
        self.fill_facts(el("import-facts"), imported.facts)
        self.fill_facts(el("import-exact"), [(name, f"{value} ({where})") for name, value, where in imported.exact])
        self.fill_facts(el("import-derived"), [(name, f"{value} ({how})") for name, value, how in imported.derived])
        body = el("import-mix").querySelector("tbody")
        body.replaceChildren()
        for label, count, elements, size in imported.mix:
            row = el("mix-row").content.firstElementChild.cloneNode(True)
            cells = row.children
            for i, text in enumerate((str(label), f"{count:,}", f"{elements:,}", f"{size:,}")):
                cells.item(i).textContent = text
            body.appendChild(row)
        notes = el("import-notes")
        notes.replaceChildren()
        for note in imported.notes:
            item = document.createElement("li")
            item.textContent = str(note)
            notes.appendChild(item)

    def fill_facts(self, dl, pairs):
        dl.replaceChildren()
        for label, value in pairs:
            dt, dd = document.createElement("dt"), document.createElement("dd")
            dt.textContent, dd.textContent = str(label), str(value)
            dl.append(dt, dd)

    def open_details(self, _event):
        for d in document.querySelectorAll("details"):
            d.open = True

    def apply_show(self, query):
        """The embed shows only the fields its `show` parameter lists."""
        shown = urlstate.shown_fields(query)
        for box in document.querySelectorAll("[data-show]"):
            box.hidden = str(box.dataset.show) not in shown

    def start(self):
        query = str(window.location.search)
        hub_id = (parse_qs(query.lstrip("?")).get("hf") or [""])[0][:200]
        link_fields = None
        if query:
            fields = urlstate.parse_query(query)
            if hub_id and fields.get("model") == urlstate.IMPORTED:  # shown once the headers are read again
                link_fields, fields = fields, dict(fields, model=urlstate.DEFAULTS["model"])
            self.write_fields(fields)
        if not self.full_page:
            self.apply_show(query)
        self.recompute(history="replace")
        self.on(document, "input", self.on_input)  # the form's fields, and the units radios in the header
        self.on(document, "change", self.on_input)
        self.on(window, "popstate", self.on_popstate)
        if el("model-file") is not None:
            self.on(el("model-file"), "change", self.on_model_file)
        self.on(window, "beforeprint", self.open_details)
        for button_id, handler in (("copy-link", self.copy_link), ("export-json", self.export_json),
                                   ("export-md", self.export_markdown), ("embed-code", self.show_embed_code),
                                   ("use-config", self.on_use_config), ("hub-load", self.on_hub_load),
                                   ("hwfirst-run", self.list_fitting), ("copy-log", self.copy_log)):
            if el(button_id) is not None:
                self.on(el(button_id), "click", handler)
        document.documentElement.dataset.py = "ready"
        window.performance.mark("app:ready")
        el("py-status-text").textContent = "Ready: every input recalculates as you type."
        if link_fields is not None and el("hub-id") is not None:
            el("hub-id").value = hub_id
            el("import-box").open = True
            asyncio.ensure_future(self.load_hub(hub_id, link_fields))


page = Page()
try:
    page.start()
except InputError as err:  # a link with fields pycore refuses: show them at their fields
    page.show_errors({err.field: err.message})
    document.documentElement.dataset.py = "ready"

"""Small accessible SVG charts as strings: the breakdown against the GPU, and memory versus context.

Every piece of text is XML-escaped here, so a model name from a file cannot become markup. Colours
come from CSS classes, so the page's light and dark themes style them.
"""
import math
from xml.sax.saxutils import escape

from .memory import Estimate, estimate
from .units import BINARY, GB, GiB, format_bytes

_SEGMENTS = (("weights", "Weights"), ("kv_cache", "KV cache"), ("state", "Recurrent state"), ("activations", "Activations"),
             ("overhead", "Overhead"))


def _svg(width, height, title, desc, body, chart_id):
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
            f'aria-labelledby="{chart_id}-title {chart_id}-desc" class="chart" preserveAspectRatio="xMidYMid meet">'
            f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(desc)}</desc>'
            f'{body}</svg>')


def breakdown_bar(e: Estimate, system: str = BINARY) -> str:
    """One stacked bar for the fullest GPU against its usable capacity (inference); what the engine keeps in
    system RAM is named beside it, not in it (the bar is what the GPU must hold)."""
    device = max(e.devices, key=lambda d: d.total)
    parts = [(key, label, getattr(device, key)) for key, label in _SEGMENTS]
    host = e.host.total if e.host is not None else 0
    return stacked_bar(e.model.name, parts, e.fit, len(e.devices) > 1, system, host)


def stacked_bar(model_name: str, parts, fit, per_gpu: bool, system: str = BINARY, host: int = 0) -> str:
    """A stacked bar of (key, label, bytes) parts against a fit's capacity (or none); `host`: bytes kept in
    system RAM besides, named in the title and description."""
    total = sum(size for _, _, size in parts)
    capacity = fit.capacity if fit else 0
    scale_max = max(total, capacity) or 1
    left, bar_w, top, bar_h = 4, 632, 8, 36
    body, x = [], float(left)
    for key, label, size in parts:
        w = bar_w * size / scale_max
        if w > 0:
            body.append(f'<rect class="seg seg-{key}" x="{x:.2f}" y="{top}" width="{w:.2f}" height="{bar_h}">'
                        f'<title>{escape(label)}: {escape(format_bytes(size, system))}</title></rect>')
        x += w
    verdict = "fits" if total <= capacity else "over"  # the capacity line and its label: green when it fits
    if capacity:
        cx = left + bar_w * capacity / scale_max
        body.append(f'<line class="capacity {verdict}" x1="{cx:.2f}" x2="{cx:.2f}" y1="2" y2="{top + bar_h + 6}"/>')
    legend_y, lx = top + bar_h + 24, left
    for key, label, size in parts:
        if not size and key not in ("weights", "overhead"):
            continue
        text = f"{label} {format_bytes(size, system)}"
        width = 16 + 7 * len(text)
        if lx > left and lx + width > left + bar_w:  # wrap the legend onto another line
            legend_y, lx = legend_y + 18, left
        body.append(f'<rect class="seg seg-{key}" x="{lx}" y="{legend_y - 10}" width="10" height="10"/>'
                    f'<text class="legend" x="{lx + 14}" y="{legend_y}">{escape(text)}</text>')
        lx += width
    if capacity:
        body.append(f'<text class="legend capacity-label {verdict}" x="{left}" y="{legend_y + 20}">'
                    f'{escape("Usable on " + fit.gpu.name + ": " + format_bytes(capacity, system))}'
                    f'{escape(f" · and {format_bytes(host, system)} in system RAM, not in this bar" if host else "")}</text>')
    per = " per GPU" if per_gpu else ""
    ram = f" (and {format_bytes(host, system)} in system RAM)" if host else ""
    desc = (f"{model_name}: " + ", ".join(f"{label} {format_bytes(size, system)}" for _, label, size in parts) +
            f"; total {format_bytes(total, system)}{per}{ram}" +
            (f" against {format_bytes(capacity, system)} usable: {'fits' if total <= capacity else 'does not fit'}."
             if capacity else "."))
    title = ("Memory on the GPU" + (", the fullest one" if per_gpu else "") + ram) if host else "Memory breakdown" + per
    return _svg(640, legend_y + (26 if capacity else 8), title, desc, "".join(body), "bar")


def context_points(e: Estimate, points: int = 40) -> list:
    """(context, bytes on the fullest GPU) from 256 tokens to the model's maximum, evenly in log scale,
    with the scenario's own context included."""
    s, top = e.scenario, e.model.max_context
    low = min(256, top)
    contexts = {low, top, min(s.context, top)}
    if top > low:
        ratio = (top / low) ** (1 / (points - 1))
        contexts.update(int(low * ratio ** i) for i in range(points))
    out = []
    for c in sorted(contexts):
        d = estimate(s.with_(context=c))
        out.append((c, max(dev.total for dev in d.devices)))
    return out


def nice_ticks(top: float, most: int = 6) -> list:
    """Tick values from 0 to `top` (> 0) at a round step (1, 2, 2.5 or 5 times a power of ten), at most `most`
    intervals; e.g. nice_ticks(26.3) = [0, 5, 10, 15, 20, 25]."""
    raw = top / most
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw - 1e-12)
    return [round(i * step, 10) for i in range(int(top / step + 1e-9) + 1)]


def context_curve(e: Estimate, system: str = BINARY) -> str:
    """Memory on the fullest GPU versus context length, log-scale x, with the capacity line. Sliding-
    window models flatten where their windows fill; MLA models grow slowly."""
    pts = context_points(e)
    capacity = e.fit.capacity if e.fit else 0
    unit, unit_name = (GiB, "GiB") if system == BINARY else (GB, "GB")
    y_max = max(max(b for _, b in pts), capacity) * 1.08 or 1
    if y_max / unit >= 10_000:  # a tick label of five digits: the next unit up
        unit, unit_name = (GiB * 1024, "TiB") if system == BINARY else (GB * 1000, "TB")
    width, height, left, right, top, bottom = 640, 300, 64, 16, 16, 44
    x_lo, x_hi = math.log(pts[0][0]), math.log(max(pts[-1][0], pts[0][0] + 1))

    def x(c):
        return left + (width - left - right) * (math.log(c) - x_lo) / ((x_hi - x_lo) or 1)

    def y(b):
        return top + (height - top - bottom) * (1 - b / y_max)

    body = [f'<line class="axis" x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}"/>',
            f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}"/>']
    for value in nice_ticks(y_max / unit):
        b = value * unit
        label = f"{value:,.2f}".rstrip("0").rstrip(".")
        body.append(f'<text class="tick" x="{left - 6}" y="{y(b) + 4:.1f}" text-anchor="end">{label}</text>')
        body.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y(b):.1f}" y2="{y(b):.1f}"/>')
    c = 256
    while c <= pts[-1][0]:
        if c >= pts[0][0]:
            label = f"{c // 1024}K" if c >= 1024 else str(c)
            body.append(f'<text class="tick" x="{x(c):.1f}" y="{height - bottom + 16}" text-anchor="middle">{label}</text>')
        c *= 4
    body.append(f'<text class="axis-label" x="{(left + width - right) / 2}" y="{height - 6}" text-anchor="middle">'
                f'context length (tokens, log scale)</text>')
    body.append(f'<text class="axis-label" x="14" y="{(top + height - bottom) / 2}" text-anchor="middle" '
                f'transform="rotate(-90 14 {(top + height - bottom) / 2})">memory ({unit_name})</text>')
    line = " ".join(f"{x(c):.1f},{y(b):.1f}" for c, b in pts)
    body.append(f'<polyline class="curve" points="{line}"/>')
    if capacity:
        body.append(f'<line class="capacity" x1="{left}" x2="{width - right}" y1="{y(capacity):.1f}" y2="{y(capacity):.1f}"/>')
        body.append(f'<text class="legend capacity-label" x="{width - right - 4}" y="{y(capacity) - 6:.1f}" '
                    f'text-anchor="end">{escape("usable " + format_bytes(capacity, system))}</text>')
    cur = min(e.scenario.context, e.model.max_context)
    cur_b = next(b for c, b in pts if c == cur)
    body.append(f'<circle class="marker" cx="{x(cur):.1f}" cy="{y(cur_b):.1f}" r="5">'
                f'<title>{escape(f"{cur:,} tokens: {format_bytes(cur_b, system)}")}</title></circle>')
    fits_up_to = max((c for c, b in pts if capacity and b <= capacity), default=None)
    desc = (f"Memory of {e.model.name} from {pts[0][0]:,} to {pts[-1][0]:,} tokens: "
            f"{format_bytes(pts[0][1], system)} to {format_bytes(pts[-1][1], system)}" +
            (f"; the usable {format_bytes(capacity, system)} is reached " +
             (f"after {fits_up_to:,} tokens." if fits_up_to and fits_up_to < pts[-1][0] else
              "nowhere in this range." if fits_up_to else "before the shortest context.") if capacity else "."))
    return _svg(width, height, "Memory versus context length", desc, "".join(body), "curve")



MAX_PLACEMENT_ROWS = 8  # GPU rows drawn; more GPUs are summed up in the description


def placement_bars(e: Estimate, system: str = BINARY) -> str:
    """Where an engine with placement rules (llama.cpp, Ollama, vLLM, SGLang) puts the bytes: one stacked bar per
    GPU (weights, KV cache, state, compute buffer, overhead) against its usable capacity, and one for what
    stays in system RAM against the RAM checked. `e.host` must be set (e.engine_plan is not None)."""
    h = e.host
    rows = [(f"GPU {d.index}", [(key, label, getattr(d, key)) for key, label in _SEGMENTS], e.fit.capacity if e.fit else 0)
            for d in e.devices[:MAX_PLACEMENT_ROWS]]
    ram = e.fit.ram if e.fit else 0
    pool = "Unified memory" if e.fit and e.fit.unified else "System RAM"
    rows.append((pool, [("weights", "Weights", h.weights), ("kv_cache", "KV cache", h.kv_cache),
                        ("state", "Recurrent state", h.state), ("activations", "Compute and output buffers",
                                                                 h.compute + h.output)], ram))
    scale = max([sum(p[2] for p in parts) for _, parts, _ in rows] + [cap for _, _, cap in rows]) or 1
    left, bar_w, row_h, bar_h = 4, 632, 46, 18
    body = []
    for i, (name, parts, cap) in enumerate(rows):
        y = 8 + i * row_h
        total = sum(size for _, _, size in parts)
        text = f"{name}: {format_bytes(total, system)}" + (f" of {format_bytes(cap, system)}" +
                                                           (" usable" if name.startswith("GPU") else "") if cap else "")
        body.append(f'<text class="legend" x="{left}" y="{y + 12}">{escape(text)}</text>')
        x = float(left)
        for key, label, size in parts:
            w = bar_w * size / scale
            if w > 0:
                body.append(f'<rect class="seg seg-{key}" x="{x:.2f}" y="{y + 18}" width="{w:.2f}" height="{bar_h}">'
                            f'<title>{escape(f"{name}, {label}: {format_bytes(size, system)}")}</title></rect>')
            x += w
        body.append(f'<rect class="track" x="{left}" y="{y + 18}" width="{bar_w}" height="{bar_h}" fill="none"/>')
        if cap:
            cx = left + bar_w * cap / scale
            body.append(f'<line class="capacity" x1="{cx:.2f}" x2="{cx:.2f}" y1="{y + 15}" y2="{y + 18 + bar_h + 3}"/>')
    legend_y, lx = 8 + len(rows) * row_h + 10, left
    for key, label in _SEGMENTS:
        label = "Compute buffers" if key == "activations" else label
        width = 16 + 7 * len(label)
        if lx > left and lx + width > left + bar_w:
            legend_y, lx = legend_y + 18, left
        body.append(f'<rect class="seg seg-{key}" x="{lx}" y="{legend_y - 10}" width="10" height="10"/>'
                    f'<text class="legend" x="{lx + 14}" y="{legend_y}">{escape(label)}</text>')
        lx += width
    more = len(e.devices) - MAX_PLACEMENT_ROWS
    desc = (f"{e.engine.label}, {e.model.name}: " +
            "; ".join(f"{name} {format_bytes(sum(p[2] for p in parts), system)}"
                      + (f" of {format_bytes(cap, system)}" if cap else "") for name, parts, cap in rows) +
            (f"; {more} more GPUs not drawn" if more > 0 else "") + ".")
    return _svg(640, legend_y + 8, "On the GPUs and in " + ("unified memory" if pool.startswith("Unified") else "system RAM"), desc, "".join(body), "placement")

// The spikeloop live dashboard: a protocol observer (docs/protocol.md) drawing telemetry frames.
// Plain browser script (no build step; named app.js so that no .ts module shares its name); msgpackr's browser build is served by the bridge itself.
// Drawing happens on animation frames, only when a new telemetry frame has arrived. Every plot has
// labelled axes with units; histories (rates, latency, misses) are kept here from the frames.
(() => {
  const { Packr, Unpackr } = globalThis.msgpackr;
  const packr = new Packr({ useRecords: false });
  const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
  const token = new URLSearchParams(location.hash.slice(1)).get('token');

  // Spike steps are engine time steps (0.1 ms by default): the raster shows the last 2 s.
  const DT_MS = 0.1;
  const RASTER_WINDOW_S = 2;
  const RASTER_WINDOW_STEPS = RASTER_WINDOW_S / (DT_MS / 1000);
  const MAX_RASTER_SPIKES = 200000;
  /** Seconds of history kept for the plots over time. */
  const HISTORY_S = 30;
  const TRAIL_POINTS = 4000;

  const COLORS = {
    exc: '#5fb3f9',
    inh: '#f0745b',
    axis: '#8b97a5',
    grid: '#232b36',
    text: '#c8d0da',
    e2e: '#8fd18f',
    e2eTail: '#3f8f3f',
    lateness: '#f0745b',
    compute: '#5fb3f9',
    missed: '#ff4d4d',
  };

  /** State the tests (and curious users, from the console) can read. */
  const view = {
    connected: false,
    frames: 0,
    spikesReceived: 0,
    lastError: null,
    config: null,
    latest: null,
    histogram: null,
    history: [],
    trail: [],
  };
  globalThis.spikeloopDashboard = view;

  const raster = { steps: [], ids: [], neurons: 1 };
  let dirty = false;
  let attempt = 0;
  let lastMissed = null;

  const $ = (id) => document.getElementById(id);
  // Bins arrive as Uint8Array views at any offset: copy into aligned buffers.
  const f32 = (bin) => new Float32Array(bin.slice().buffer);
  const u32 = (bin) => new Uint32Array(bin.slice().buffer);
  const us = (value) =>
    value >= 1e6
      ? `${(value / 1e6).toFixed(2)} s`
      : value >= 1000
        ? `${(value / 1000).toFixed(2)} ms`
        : `${Math.round(value)} µs`;
  /** Axis labels of a log latency axis: 10 µs, 100 µs, 1 ms, … */
  const usShort = (value) =>
    value >= 1e6 ? `${value / 1e6} s` : value >= 1000 ? `${value / 1000} ms` : `${value} µs`;

  function connect() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const socket = new WebSocket(`${scheme}://${location.host}/`);
    socket.binaryType = 'arraybuffer';
    socket.onopen = () => {
      socket.send(
        packr.pack({
          t: 'hello',
          protocol: 'spikeloop',
          version: 1,
          role: 'observer',
          name: 'dashboard',
          token,
          sensors: [],
          motors: [],
          features: [],
        }),
      );
    };
    socket.onmessage = (event) => {
      const message = unpackr.unpack(new Uint8Array(event.data));
      if (message.t === 'config') {
        attempt = 0;
        view.connected = true;
        view.config = message;
        setStatus(`live · session ${message.session} · tick ${message.tickMs} ms`, 'live');
      } else if (message.t === 'telemetry') {
        receive(message);
      } else if (message.t === 'error') {
        view.lastError = `${message.code}: ${message.message}`;
        setStatus(`error ${view.lastError}`, 'down');
      }
    };
    socket.onclose = () => {
      view.connected = false;
      const delayMs = Math.min(5000, 250 * 2 ** attempt++);
      setStatus(
        `disconnected${view.lastError ? ` (${view.lastError})` : ''}; retrying in ${delayMs} ms`,
        'down',
      );
      setTimeout(connect, delayMs);
    };
  }

  function setStatus(text, kind) {
    const status = $('status');
    status.textContent = text;
    status.className = `status ${kind}`;
  }

  function receive(frame) {
    view.frames++;
    const steps = u32(frame.spikes.step);
    const ids = u32(frame.spikes.id);
    view.spikesReceived += ids.length;
    raster.neurons = frame.spikes.neurons;
    for (let k = 0; k < ids.length; k++) {
      raster.steps.push(steps[k]);
      raster.ids.push(ids[k]);
    }
    if (raster.ids.length > MAX_RASTER_SPIKES) {
      const excess = raster.ids.length - MAX_RASTER_SPIKES;
      raster.steps.splice(0, excess);
      raster.ids.splice(0, excess);
    }
    frame.ratesHz = f32(frame.rates);
    if (frame.histogram)
      view.histogram = { edgesUs: f32(frame.histogram.edgesUs), counts: u32(frame.histogram.counts) };
    const missed = frame.counters.missed ?? 0;
    const clusters = frame.ratesHz.length / 2;
    view.history.push({
      tS: frame.ts / 1e6,
      ratesE: frame.ratesHz.slice(0, clusters),
      e2eP50: frame.latency.e2e?.count ? frame.latency.e2e.p50 : null,
      e2eP99: frame.latency.e2e?.count ? frame.latency.e2e.p99 : null,
      latenessMax: frame.latency.lateness?.count ? frame.latency.lateness.max : null,
      computeP99: frame.latency.compute?.count ? frame.latency.compute.p99 : null,
      missed: lastMissed === null ? 0 : Math.max(0, missed - lastMissed),
    });
    lastMissed = missed;
    const oldest = frame.ts / 1e6 - HISTORY_S;
    while (view.history.length > 0 && view.history[0].tS < oldest) view.history.shift();
    if (frame.arena) {
      const [x, y] = f32(frame.arena.robot);
      const last = view.trail[view.trail.length - 1];
      // A jump (a new run, a reset world) starts a new trail.
      if (last && Math.hypot(x - last[0], y - last[1]) > 0.5) view.trail.length = 0;
      if (!last || x !== last[0] || y !== last[1]) view.trail.push([x, y]);
      if (view.trail.length > TRAIL_POINTS) view.trail.splice(0, view.trail.length - TRAIL_POINTS);
    }
    view.latest = frame;
    dirty = true;
  }

  // ---- drawing helpers ----------------------------------------------------------------------

  function context(id) {
    const canvas = $(id);
    const ctx = canvas.getContext('2d');
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.font = '12px system-ui, sans-serif';
    ctx.lineWidth = 1;
    return { canvas, ctx };
  }

  /** The plot rectangle inside a canvas, leaving room for tick labels and axis titles. */
  function area(canvas, margin) {
    return {
      x0: margin.left,
      y0: margin.top,
      w: canvas.width - margin.left - margin.right,
      h: canvas.height - margin.top - margin.bottom,
    };
  }

  /** Axes, grid, tick labels and titles. Ticks are [value, label]; map* give pixel positions. */
  function axes(ctx, a, { xTicks, yTicks, mapX, mapY, xTitle, yTitle }) {
    ctx.strokeStyle = COLORS.grid;
    ctx.fillStyle = COLORS.axis;
    ctx.textBaseline = 'middle';
    ctx.textAlign = 'right';
    for (const [value, label] of yTicks) {
      const y = Math.round(mapY(value)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(a.x0, y);
      ctx.lineTo(a.x0 + a.w, y);
      ctx.stroke();
      ctx.fillText(label, a.x0 - 6, y);
    }
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const [value, label] of xTicks) {
      const x = Math.round(mapX(value)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, a.y0);
      ctx.lineTo(x, a.y0 + a.h);
      ctx.stroke();
      ctx.fillText(label, x, a.y0 + a.h + 5);
    }
    ctx.strokeStyle = COLORS.axis;
    ctx.strokeRect(a.x0 + 0.5, a.y0 + 0.5, a.w, a.h);
    ctx.fillStyle = COLORS.text;
    ctx.textBaseline = 'bottom';
    ctx.fillText(xTitle, a.x0 + a.w / 2, ctx.canvas.height - 2);
    ctx.save();
    ctx.translate(13, a.y0 + a.h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = 'middle';
    ctx.fillText(yTitle, 0, 0);
    ctx.restore();
    ctx.textAlign = 'left';
    ctx.textBaseline = 'alphabetic';
  }

  /** 1, 2 or 5 × 10^k steps: about `count` ticks from 0 to max. */
  function linearTicks(max, count, format = (v) => String(Number(v.toPrecision(3)))) {
    const rough = max / count;
    const power = 10 ** Math.floor(Math.log10(rough));
    const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough);
    const ticks = [];
    for (let v = 0; v <= max + step / 1e6; v += step) ticks.push([v, format(v)]);
    return { ticks, top: Math.max(step, Math.ceil(max / step - 1e-9) * step) };
  }

  function legend(ctx, x, y, items) {
    ctx.textBaseline = 'middle';
    let left = x;
    for (const [color, label] of items) {
      ctx.fillStyle = color;
      ctx.fillRect(left, y - 4, 10, 8);
      ctx.fillStyle = COLORS.text;
      ctx.fillText(label, left + 14, y);
      left += 14 + ctx.measureText(label).width + 14;
    }
    ctx.textBaseline = 'alphabetic';
  }

  /** Colour for a value in [0, 1]: dark blue → teal → yellow (viridis-like, readable on dark). */
  function heat(t) {
    const stops = [
      [13, 8, 135],
      [33, 145, 140],
      [94, 201, 98],
      [253, 231, 37],
    ];
    const p = Math.min(1, Math.max(0, t)) * (stops.length - 1);
    const k = Math.min(stops.length - 2, Math.floor(p));
    const f = p - k;
    const c = stops[k].map((v, i) => Math.round(v + (stops[k + 1][i] - v) * f));
    return `rgb(${c[0]},${c[1]},${c[2]})`;
  }

  /** Population layout from N and the number of clusters: N_E = 0.8 N, E clusters first. */
  function layout(neurons, clusters) {
    const nE = Math.round(neurons * 0.8);
    return { nE, nI: neurons - nE, clusters, perE: nE / clusters, perI: (neurons - nE) / clusters };
  }

  // ---- panels -------------------------------------------------------------------------------

  function drawRaster(frame) {
    const { canvas, ctx } = context('raster');
    const a = area(canvas, { left: 92, right: 16, top: 24, bottom: 38 });
    const clusters = frame.ratesHz.length / 2 || 1;
    const L = layout(raster.neurons, clusters);
    const mapY = (id) => a.y0 + (id / raster.neurons) * a.h;
    const mapX = (seconds) => a.x0 + ((seconds + RASTER_WINDOW_S) / RASTER_WINDOW_S) * a.w;
    const xTicks = [];
    for (let t = -RASTER_WINDOW_S; t <= 0.0001; t += 0.25) xTicks.push([t, t === 0 ? '0' : t.toFixed(2)]);
    // y labels: E clusters at their centres (every 2nd when crowded), the I block as one label.
    const step = a.h / clusters > 16 ? 1 : 2;
    const yTicks = [];
    for (let q = 0; q < clusters; q += step) yTicks.push([(q + 0.5) * L.perE, `E${q}`]);
    yTicks.push([L.nE + L.nI / 2, `I0–I${clusters - 1}`]);
    axes(ctx, a, {
      xTicks,
      yTicks: [],
      mapX,
      mapY,
      xTitle: 'time relative to now (s)',
      yTitle: 'neuron, ordered by cluster',
    });
    // Cluster labels without grid lines (the boundaries are the lines).
    ctx.fillStyle = COLORS.axis;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const [value, label] of yTicks) ctx.fillText(label, a.x0 - 6, mapY(value));
    ctx.textAlign = 'left';
    ctx.textBaseline = 'alphabetic';
    // Cluster boundaries (faint) and the E/I boundary (bright).
    ctx.strokeStyle = '#2d3746';
    for (let q = 1; q < clusters; q++) {
      for (const boundary of [q * L.perE, L.nE + q * L.perI]) {
        const y = Math.round(mapY(boundary)) + 0.5;
        ctx.beginPath();
        ctx.moveTo(a.x0, y);
        ctx.lineTo(a.x0 + a.w, y);
        ctx.stroke();
      }
    }
    ctx.strokeStyle = '#c8d0da';
    const yEI = Math.round(mapY(L.nE)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(a.x0, yEI);
    ctx.lineTo(a.x0 + a.w, yEI);
    ctx.stroke();

    const n = raster.steps.length;
    if (n > 0) {
      const newest = raster.steps[n - 1];
      const oldest = newest - RASTER_WINDOW_STEPS;
      // Drop spikes that left the window (they are ordered by arrival, i.e. by step).
      let first = 0;
      while (first < n && raster.steps[first] < oldest) first++;
      if (first > 0) {
        raster.steps.splice(0, first);
        raster.ids.splice(0, first);
      }
      const size = Math.max(1, Math.min(3, a.h / Math.min(raster.neurons, 1000)));
      for (const [color, excitatory] of [
        [COLORS.exc, true],
        [COLORS.inh, false],
      ]) {
        ctx.fillStyle = color;
        for (let k = 0; k < raster.ids.length; k++) {
          const id = raster.ids[k];
          if (id < L.nE !== excitatory) continue;
          const seconds = ((raster.steps[k] - newest) * DT_MS) / 1000;
          ctx.fillRect(mapX(seconds), mapY(id), 1.5, size);
        }
      }
    }
    legend(ctx, a.x0, 12, [
      [COLORS.exc, `excitatory (E, ${L.nE})`],
      [COLORS.inh, `inhibitory (I, ${L.nI})`],
    ]);
    ctx.fillStyle = COLORS.axis;
    ctx.textAlign = 'right';
    ctx.fillText(`lines: cluster boundaries; bright line: E | I`, a.x0 + a.w, 16);
    ctx.textAlign = 'left';
    $('raster-info').textContent =
      `N = ${raster.neurons}, ${clusters} clusters (≤ 1000 evenly spaced neurons shown) · last ${RASTER_WINDOW_S} s · ${raster.ids.length} spikes`;
  }

  function drawRates(frame) {
    const { canvas, ctx } = context('rates');
    const rates = frame.ratesHz;
    const clusters = rates.length / 2;
    if (clusters === 0) return;
    const a = area(canvas, { left: 52, right: 12, top: 24, bottom: 38 });
    const { ticks, top } = linearTicks(Math.max(10, ...rates), 5);
    const mapY = (hz) => a.y0 + a.h - (hz / top) * a.h;
    const group = a.w / clusters;
    const mapX = (q) => a.x0 + (q + 0.5) * group;
    const labelEvery = group < 18 ? 2 : 1;
    const xTicks = [];
    for (let q = 0; q < clusters; q += labelEvery) xTicks.push([q, String(q)]);
    axes(ctx, a, { xTicks: [], yTicks: ticks, mapX, mapY, xTitle: 'cluster q', yTitle: 'rate (Hz)' });
    ctx.fillStyle = COLORS.axis;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const [q, label] of xTicks) ctx.fillText(label, mapX(q), a.y0 + a.h + 5);
    ctx.textAlign = 'left';
    ctx.textBaseline = 'alphabetic';
    const bar = Math.max(1, group / 2 - 1.5);
    for (let q = 0; q < clusters; q++) {
      for (const [p, color, offset] of [
        [q, COLORS.exc, 1],
        [clusters + q, COLORS.inh, bar + 1.5],
      ]) {
        const y = mapY(rates[p]);
        ctx.fillStyle = color;
        ctx.fillRect(a.x0 + q * group + offset, y, bar, a.y0 + a.h - y);
      }
    }
    legend(ctx, a.x0, 12, [
      [COLORS.exc, 'E cluster'],
      [COLORS.inh, 'I cluster'],
    ]);
    let e = 0;
    let i = 0;
    for (let p = 0; p < clusters; p++) {
      e += rates[p];
      i += rates[clusters + p];
    }
    $('rates-info').textContent =
      `mean E ${(e / clusters).toFixed(1)} Hz · I ${(i / clusters).toFixed(1)} Hz (last 50 ms)`;
  }

  function drawRatesOverTime() {
    const { canvas, ctx } = context('rates-time');
    const history = view.history;
    if (history.length === 0) return;
    const clusters = history[history.length - 1].ratesE.length;
    const a = area(canvas, { left: 52, right: 78, top: 12, bottom: 38 });
    const nowS = history[history.length - 1].tS;
    const mapX = (seconds) => a.x0 + ((seconds + HISTORY_S) / HISTORY_S) * a.w;
    const mapY = (q) => a.y0 + (q / clusters) * a.h;
    let max = 10;
    for (const h of history) for (const r of h.ratesE) if (r > max) max = r;
    const cellH = a.h / clusters;
    for (let k = 0; k < history.length; k++) {
      const h = history[k];
      const x0 = mapX(h.tS - nowS);
      const x1 = k + 1 < history.length ? mapX(history[k + 1].tS - nowS) : a.x0 + a.w;
      for (let q = 0; q < clusters; q++) {
        ctx.fillStyle = heat(h.ratesE[q] / max);
        ctx.fillRect(x0, mapY(q), Math.max(1, x1 - x0 + 0.5), cellH + 0.5);
      }
    }
    const xTicks = [];
    for (let t = -HISTORY_S; t <= 0; t += 5) xTicks.push([t, String(t)]);
    const yTicks = [];
    const every = clusters > 10 ? 5 : 1;
    for (let q = 0; q < clusters; q += every) yTicks.push([q + 0.5, `E${q}`]);
    axes(ctx, a, {
      xTicks,
      yTicks: [],
      mapX,
      mapY,
      xTitle: 'time relative to now (s)',
      yTitle: 'E cluster',
    });
    ctx.fillStyle = COLORS.axis;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const [q, label] of yTicks) ctx.fillText(label, a.x0 - 6, mapY(q));
    // Colour bar with its unit.
    const barX = a.x0 + a.w + 12;
    for (let k = 0; k < 50; k++) {
      ctx.fillStyle = heat(k / 49);
      ctx.fillRect(barX, a.y0 + a.h - ((k + 1) * a.h) / 50, 12, a.h / 50 + 0.5);
    }
    ctx.fillStyle = COLORS.axis;
    ctx.textAlign = 'left';
    for (const f of [0, 0.5, 1]) ctx.fillText(`${(f * max).toFixed(0)}`, barX + 16, a.y0 + a.h - f * a.h);
    ctx.save();
    ctx.translate(barX + 52, a.y0 + a.h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = 'center';
    ctx.fillStyle = COLORS.text;
    ctx.fillText('rate (Hz)', 0, 0);
    ctx.restore();
    ctx.textBaseline = 'alphabetic';
    $('rates-time-info').textContent = `last ${HISTORY_S} s, one column per frame`;
  }

  /** A log latency axis from 10 µs to the smallest decade above everything shown (≥ 10 ms). */
  function logLatencyAxis(maxUs) {
    const low = 10;
    const high = 10 ** Math.max(4, Math.ceil(Math.log10(Math.max(maxUs, 10))));
    const ticks = [];
    for (let v = low; v <= high; v *= 10) ticks.push([v, usShort(v)]);
    return { low, high, ticks };
  }

  function drawLatencyOverTime(frame) {
    const { canvas, ctx } = context('latency-time');
    const history = view.history;
    if (history.length === 0) return;
    const a = area(canvas, { left: 74, right: 12, top: 24, bottom: 38 });
    const strip = 26; // missed ticks per frame, at the bottom
    const plot = { x0: a.x0, y0: a.y0, w: a.w, h: a.h - strip };
    let maxUs = 1000;
    for (const h of history)
      for (const v of [h.e2eP99, h.latenessMax, h.computeP99]) if (v > maxUs) maxUs = v;
    const axis = logLatencyAxis(maxUs);
    const nowS = history[history.length - 1].tS;
    const mapX = (seconds) => a.x0 + ((seconds + HISTORY_S) / HISTORY_S) * a.w;
    const span = Math.log10(axis.high / axis.low);
    const mapY = (value) =>
      plot.y0 + plot.h - (Math.log10(Math.max(axis.low, value) / axis.low) / span) * plot.h;
    const xTicks = [];
    for (let t = -HISTORY_S; t <= 0; t += 5) xTicks.push([t, String(t)]);
    axes(ctx, a, {
      xTicks,
      yTicks: axis.ticks,
      mapX,
      mapY,
      xTitle: 'time relative to now (s)',
      yTitle: 'latency (log)',
    });
    // The tick length: lateness above it means missed slots.
    const tickUs = (frame.tickMs ?? 1) * 1000;
    ctx.strokeStyle = '#6b7684';
    ctx.setLineDash([4, 4]);
    ctx.beginPath();
    ctx.moveTo(a.x0, mapY(tickUs));
    ctx.lineTo(a.x0 + a.w, mapY(tickUs));
    ctx.stroke();
    ctx.setLineDash([]);
    for (const [key, color] of [
      ['computeP99', COLORS.compute],
      ['latenessMax', COLORS.lateness],
      ['e2eP99', COLORS.e2eTail],
      ['e2eP50', COLORS.e2e],
    ]) {
      ctx.strokeStyle = color;
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      let drawing = false;
      for (const h of history) {
        const value = h[key];
        if (value === null) {
          drawing = false;
          continue;
        }
        const x = mapX(h.tS - nowS);
        const y = mapY(value);
        if (drawing) ctx.lineTo(x, y);
        else ctx.moveTo(x, y);
        drawing = true;
      }
      ctx.stroke();
      ctx.lineWidth = 1;
    }
    // Missed ticks: one bar per frame in the bottom strip, height by count (log-ish: 1, 10, 100).
    const stripTop = a.y0 + a.h - strip;
    ctx.strokeStyle = COLORS.grid;
    ctx.beginPath();
    ctx.moveTo(a.x0, stripTop + 0.5);
    ctx.lineTo(a.x0 + a.w, stripTop + 0.5);
    ctx.stroke();
    let missedShown = 0;
    ctx.fillStyle = COLORS.missed;
    for (const h of history) {
      if (h.missed <= 0) continue;
      missedShown += h.missed;
      const height = Math.min(strip - 4, 6 + 6 * Math.log10(h.missed));
      ctx.fillRect(mapX(h.tS - nowS) - 1, a.y0 + a.h - height, 3, height);
    }
    ctx.fillStyle = COLORS.axis;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    ctx.fillText('missed', a.x0 - 6, stripTop + strip / 2);
    ctx.textAlign = 'left';
    ctx.textBaseline = 'alphabetic';
    legend(ctx, a.x0, 12, [
      [COLORS.e2e, 'e2e p50'],
      [COLORS.e2eTail, 'e2e p99'],
      [COLORS.lateness, 'lateness max'],
      [COLORS.compute, 'compute p99'],
      [COLORS.missed, 'missed ticks'],
    ]);
    $('latency-time-info').textContent =
      `per 50 ms frame · dashed: one tick (${frame.tickMs} ms) · ${missedShown} missed in the last ${HISTORY_S} s`;
  }

  function drawLatency(frame) {
    const { canvas, ctx } = context('latency');
    const e2e = frame.latency.e2e;
    const h = view.histogram;
    const a = area(canvas, { left: 60, right: 28, top: 24, bottom: 38 });
    const edges = h ? h.edgesUs : new Float32Array([100000]);
    const low = 10;
    const high = edges[edges.length - 1];
    const span = Math.log10(high / low);
    const mapX = (value) => a.x0 + (Math.log10(Math.max(low, value) / low) / span) * a.w;
    let total = 0;
    if (h) for (const c of h.counts) total += c;
    const shares = h ? Array.from(h.counts, (c) => (total > 0 ? (100 * c) / total : 0)) : [];
    const { ticks, top } = linearTicks(Math.max(5, ...shares), 4, (v) => `${Number(v.toPrecision(2))}%`);
    const mapY = (share) => a.y0 + a.h - (share / top) * a.h;
    const xTicks = [];
    for (let v = low; v <= high * 1.001; v *= 10) xTicks.push([v, usShort(v)]);
    axes(ctx, a, {
      xTicks,
      yTicks: ticks,
      mapX,
      mapY,
      xTitle: 'sensor → motor latency (log)',
      yTitle: 'share of samples',
    });
    if (h) {
      ctx.fillStyle = COLORS.e2e;
      let lower = low;
      for (let b = 0; b < shares.length; b++) {
        const x0 = mapX(lower);
        const x1 = mapX(edges[b]);
        const y = mapY(shares[b]);
        ctx.fillRect(x0 + 0.5, y, Math.max(1, x1 - x0 - 1), a.y0 + a.h - y);
        lower = edges[b];
      }
      // Whole-run p50 and p99 from the buckets (upper edges: conservative).
      const marks = [];
      let cumulative = 0;
      for (let b = 0; b < shares.length; b++) {
        cumulative += shares[b];
        for (const [p, label] of [
          [50, 'p50'],
          [99, 'p99'],
        ])
          if (cumulative >= p && !marks.some((m) => m[0] === label)) marks.push([label, edges[b]]);
      }
      ctx.strokeStyle = COLORS.text;
      ctx.fillStyle = COLORS.text;
      ctx.setLineDash([3, 3]);
      for (const [label, value] of marks) {
        const x = mapX(value);
        ctx.beginPath();
        ctx.moveTo(x, a.y0);
        ctx.lineTo(x, a.y0 + a.h);
        ctx.stroke();
        ctx.fillText(`${label} ≤ ${us(value)}`, x + 4, a.y0 + 12 + (label === 'p99' ? 14 : 0));
      }
      ctx.setLineDash([]);
    }
    ctx.fillStyle = COLORS.axis;
    ctx.fillText(`n ≈ ${total} samples since start`, a.x0 + 4, 14);
    if (e2e)
      $('latency-info').textContent = `last 50 ms: p50 ${us(e2e.p50)} · p99 ${us(e2e.p99)} · n ${e2e.count}`;
  }

  function drawArena(frame) {
    const arena = frame.arena;
    const { canvas, ctx } = context('arena');
    if (!arena) {
      $('arena-info').textContent = 'no arena in this environment';
      return;
    }
    const a = area(canvas, { left: 44, right: 12, top: 12, bottom: 40 });
    const s = Math.min(a.w / arena.width, a.h / arena.height);
    // World y points up; canvas y points down.
    const X = (x) => a.x0 + x * s;
    const Y = (y) => a.y0 + arena.height * s - y * s;
    const xTicks = [];
    for (let m = 0; m <= arena.width + 1e-6; m += 1) xTicks.push([m, String(m)]);
    const yTicks = [];
    for (let m = 0; m <= arena.height + 1e-6; m += 1) yTicks.push([m, String(m)]);
    const box = { x0: a.x0, y0: a.y0, w: arena.width * s, h: arena.height * s };
    axes(ctx, box, { xTicks, yTicks, mapX: X, mapY: Y, xTitle: 'x (m)', yTitle: 'y (m)' });
    ctx.fillStyle = '#4c566a';
    const circles = f32(arena.obstacles);
    for (let k = 0; k + 2 < circles.length; k += 3) {
      ctx.beginPath();
      ctx.arc(X(circles[k]), Y(circles[k + 1]), circles[k + 2] * s, 0, 2 * Math.PI);
      ctx.fill();
    }
    ctx.strokeStyle = '#4c566a';
    ctx.lineWidth = 3;
    const segments = f32(arena.segments);
    for (let k = 0; k + 3 < segments.length; k += 4) {
      ctx.beginPath();
      ctx.moveTo(X(segments[k]), Y(segments[k + 1]));
      ctx.lineTo(X(segments[k + 2]), Y(segments[k + 3]));
      ctx.stroke();
    }
    ctx.lineWidth = 1;
    const targets = f32(arena.targets);
    ctx.strokeStyle = '#ebcb8b';
    for (let k = 0; k + 2 < targets.length; k += 3) {
      ctx.beginPath();
      ctx.arc(X(targets[k]), Y(targets[k + 1]), targets[k + 2] * s, 0, 2 * Math.PI);
      ctx.stroke();
      ctx.beginPath();
      ctx.moveTo(X(targets[k]) - 4, Y(targets[k + 1]));
      ctx.lineTo(X(targets[k]) + 4, Y(targets[k + 1]));
      ctx.moveTo(X(targets[k]), Y(targets[k + 1]) - 4);
      ctx.lineTo(X(targets[k]), Y(targets[k + 1]) + 4);
      ctx.stroke();
    }
    // Trail: older positions fainter.
    const trail = view.trail;
    ctx.lineWidth = 1.5;
    for (let k = 1; k < trail.length; k++) {
      ctx.strokeStyle = `rgba(95, 179, 249, ${(0.1 + (0.6 * k) / trail.length).toFixed(3)})`;
      ctx.beginPath();
      ctx.moveTo(X(trail[k - 1][0]), Y(trail[k - 1][1]));
      ctx.lineTo(X(trail[k][0]), Y(trail[k][1]));
      ctx.stroke();
    }
    ctx.lineWidth = 1;
    const [x, y, heading] = f32(arena.robot);
    const rays = f32(arena.rays);
    ctx.strokeStyle = 'rgba(143, 209, 143, 0.6)';
    for (let k = 0; k + 1 < rays.length; k += 2) {
      const angle = heading + rays[k];
      const length = arena.robotRadius + rays[k + 1];
      ctx.beginPath();
      ctx.moveTo(X(x), Y(y));
      ctx.lineTo(X(x + Math.cos(angle) * length), Y(y + Math.sin(angle) * length));
      ctx.stroke();
    }
    ctx.fillStyle = COLORS.exc;
    ctx.beginPath();
    ctx.arc(X(x), Y(y), arena.robotRadius * s, 0, 2 * Math.PI);
    ctx.fill();
    // Heading: a white line to the rim.
    ctx.strokeStyle = '#ffffff';
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(X(x), Y(y));
    ctx.lineTo(X(x + Math.cos(heading) * arena.robotRadius), Y(y + Math.sin(heading) * arena.robotRadius));
    ctx.stroke();
    // Commanded motion: where v and ω take the robot in the next second (an arc), as an arrow.
    let motionText = '';
    if (arena.motion) {
      const [v, omega] = f32(arena.motion);
      ctx.strokeStyle = '#ebcb8b';
      ctx.beginPath();
      let px = x;
      let py = y;
      let th = heading;
      ctx.moveTo(X(px), Y(py));
      for (let k = 0; k < 20; k++) {
        px += v * 0.05 * Math.cos(th);
        py += v * 0.05 * Math.sin(th);
        th += omega * 0.05;
        ctx.lineTo(X(px), Y(py));
      }
      ctx.stroke();
      ctx.fillStyle = '#ebcb8b';
      ctx.beginPath();
      ctx.arc(X(px), Y(py), 3, 0, 2 * Math.PI);
      ctx.fill();
      motionText = ` · v ${v.toFixed(2)} m/s · ω ${omega.toFixed(2)} rad/s`;
    }
    ctx.lineWidth = 1;
    // Scale bar: 1 m.
    ctx.strokeStyle = COLORS.text;
    ctx.fillStyle = COLORS.text;
    const barY = box.y0 + box.h - 10;
    ctx.beginPath();
    ctx.moveTo(box.x0 + box.w - 10 - s, barY);
    ctx.lineTo(box.x0 + box.w - 10, barY);
    ctx.moveTo(box.x0 + box.w - 10 - s, barY - 4);
    ctx.lineTo(box.x0 + box.w - 10 - s, barY + 4);
    ctx.moveTo(box.x0 + box.w - 10, barY - 4);
    ctx.lineTo(box.x0 + box.w - 10, barY + 4);
    ctx.stroke();
    ctx.textAlign = 'center';
    ctx.fillText('1 m', box.x0 + box.w - 10 - s / 2, barY - 6);
    ctx.textAlign = 'left';
    legend(ctx, box.x0 + 8, box.y0 + 12, [
      ['#5fb3f9', 'robot, trail'],
      ['#ebcb8b', 'target; next 1 s at v, ω'],
    ]);
    $('arena-info').textContent =
      `collisions ${arena.collisions} · targets ${arena.targetsReached}${motionText}`;
  }

  function drawTable(frame) {
    const rows = [['', 'p50', 'p99', 'p99.9', 'max', 'n']];
    for (const [name, s] of Object.entries(frame.latency))
      rows.push([name, us(s.p50), us(s.p99), us(s.p999), us(s.max), String(s.count)]);
    const table = $('tick-table');
    table.replaceChildren(
      ...rows.map((cells, r) => {
        const tr = document.createElement('tr');
        for (const cell of cells) {
          const td = document.createElement(r === 0 ? 'th' : 'td');
          td.textContent = cell;
          tr.append(td);
        }
        return tr;
      }),
    );
  }

  /** camelCase counter names in words: targetsReached → targets reached. */
  const words = (key) => key.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  const ALERTS = new Set(['missed', 'overruns', 'collisions', 'telemetryDropped', 'rejectedCommands']);

  function drawCounters(frame) {
    const tiles = Object.entries(frame.counters).map(([key, value]) => {
      const tile = document.createElement('div');
      tile.className = `counter${ALERTS.has(key) && value > 0 ? ' alert' : ''}`;
      tile.dataset.counter = key;
      const number = document.createElement('b');
      number.textContent = Number.isInteger(value) ? value.toLocaleString('en') : Number(value).toFixed(2);
      const label = document.createElement('span');
      label.textContent = key === 'distanceM' ? 'distance (m)' : words(key);
      tile.append(number, label);
      return tile;
    });
    $('counters').replaceChildren(...tiles);
    const seconds = ((frame.counters.ticks ?? 0) * frame.tickMs) / 1000;
    $('run-info').textContent = `${seconds.toFixed(1)} s of ticks run · N = ${raster.neurons}`;
  }

  function render() {
    if (dirty && view.latest) {
      dirty = false;
      const frame = view.latest;
      drawRaster(frame);
      drawRates(frame);
      drawRatesOverTime();
      drawLatencyOverTime(frame);
      drawLatency(frame);
      drawArena(frame);
      drawTable(frame);
      drawCounters(frame);
      document.body.dataset.frames = String(view.frames);
    }
    requestAnimationFrame(render);
  }

  connect();
  requestAnimationFrame(render);
})();

// The spikeloop live dashboard: a protocol observer (docs/protocol.md) drawing telemetry frames.
// Plain browser script (no build step; named app.js so that no .ts module shares its name); msgpackr's browser build is served by the bridge itself.
// Drawing happens on animation frames, only when a new telemetry frame has arrived.
(() => {
  const { Packr, Unpackr } = globalThis.msgpackr;
  const packr = new Packr({ useRecords: false });
  const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
  const token = new URLSearchParams(location.hash.slice(1)).get('token');

  // Spike steps are engine time steps (0.1 ms by default): the raster shows the last 2 s.
  const RASTER_WINDOW_STEPS = 20000;
  const MAX_RASTER_SPIKES = 200000;

  /** State the tests (and curious users, from the console) can read. */
  const view = {
    connected: false,
    frames: 0,
    spikesReceived: 0,
    lastError: null,
    config: null,
    latest: null,
    histogram: null,
  };
  globalThis.spikeloopDashboard = view;

  const raster = { steps: [], ids: [], neurons: 1 };
  let dirty = false;
  let attempt = 0;

  const $ = (id) => document.getElementById(id);
  // Bins arrive as Uint8Array views at any offset: copy into aligned buffers.
  const f32 = (bin) => new Float32Array(bin.slice().buffer);
  const u32 = (bin) => new Uint32Array(bin.slice().buffer);
  const us = (value) => (value >= 1000 ? `${(value / 1000).toFixed(2)} ms` : `${Math.round(value)} µs`);

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
    view.latest = frame;
    dirty = true;
  }

  function drawRaster() {
    const canvas = $('raster');
    const ctx = canvas.getContext('2d');
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const n = raster.steps.length;
    if (n === 0) return;
    const newest = raster.steps[n - 1];
    const oldest = newest - RASTER_WINDOW_STEPS;
    // Drop spikes that left the window (they are ordered by arrival, i.e. by step).
    let first = 0;
    while (first < n && raster.steps[first] < oldest) first++;
    if (first > 0) {
      raster.steps.splice(0, first);
      raster.ids.splice(0, first);
    }
    const xScale = canvas.width / RASTER_WINDOW_STEPS;
    const yScale = canvas.height / raster.neurons;
    const excitatory = Math.floor(raster.neurons * 0.8);
    const size = Math.max(1, Math.min(3, yScale));
    for (const [color, test] of [
      ['#5fb3f9', (id) => id < excitatory],
      ['#f0745b', (id) => id >= excitatory],
    ]) {
      ctx.fillStyle = color;
      for (let k = 0; k < raster.ids.length; k++) {
        const id = raster.ids[k];
        if (!test(id)) continue;
        ctx.fillRect((raster.steps[k] - oldest) * xScale, id * yScale, 2, size);
      }
    }
    $('raster-info').textContent =
      `N = ${raster.neurons} (≤ 1000 evenly spaced shown) · last 2 s · ${raster.ids.length} spikes`;
  }

  function drawRates(frame) {
    const canvas = $('rates');
    const ctx = canvas.getContext('2d');
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const rates = frame.ratesHz;
    const count = rates.length;
    if (count === 0) return;
    const clusters = count / 2;
    const max = Math.max(20, ...rates);
    const barWidth = canvas.width / count;
    for (let p = 0; p < count; p++) {
      const h = (rates[p] / max) * (canvas.height - 14);
      ctx.fillStyle = p < clusters ? '#5fb3f9' : '#f0745b';
      ctx.fillRect(p * barWidth + 1, canvas.height - h, Math.max(1, barWidth - 2), h);
    }
    ctx.fillStyle = '#7b8794';
    ctx.font = '11px sans-serif';
    ctx.fillText(`max ${max.toFixed(1)} Hz`, 4, 11);
    let e = 0;
    let i = 0;
    for (let p = 0; p < count; p++) {
      if (p < clusters) e += rates[p];
      else i += rates[p];
    }
    $('rates-info').textContent =
      `E clusters ${(e / clusters).toFixed(1)} · I clusters ${(i / clusters).toFixed(1)}`;
  }

  function drawLatency(frame) {
    const canvas = $('latency');
    const ctx = canvas.getContext('2d');
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const e2e = frame.latency.e2e;
    if (e2e)
      $('latency-info').textContent =
        `p50 ${us(e2e.p50)} · p99 ${us(e2e.p99)} · p99.9 ${us(e2e.p999)} · n ${e2e.count}`;
    const h = view.histogram;
    if (!h) return;
    const max = Math.max(1, ...h.counts);
    const barWidth = canvas.width / h.counts.length;
    ctx.fillStyle = '#8fd18f';
    for (let b = 0; b < h.counts.length; b++) {
      const height = (h.counts[b] / max) * (canvas.height - 16);
      ctx.fillRect(b * barWidth + 1, canvas.height - 14 - height, Math.max(1, barWidth - 2), height);
    }
    ctx.fillStyle = '#7b8794';
    ctx.font = '11px sans-serif';
    const last = h.counts.length - 1;
    for (const [b, align] of [
      [0, 'left'],
      [Math.floor(last / 2), 'center'],
      [last, 'right'],
    ]) {
      ctx.textAlign = align;
      ctx.fillText(
        `≤ ${us(h.edgesUs[b])}`,
        align === 'right' ? canvas.width - 2 : b * barWidth,
        canvas.height - 2,
      );
    }
    ctx.textAlign = 'left';
  }

  function drawArena(frame) {
    const arena = frame.arena;
    const canvas = $('arena');
    const ctx = canvas.getContext('2d');
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!arena) {
      $('arena-info').textContent = 'no arena in this environment';
      return;
    }
    const s = Math.min(canvas.width / arena.width, canvas.height / arena.height);
    // World y points up; canvas y points down.
    const X = (x) => x * s;
    const Y = (y) => canvas.height - y * s;
    ctx.strokeStyle = '#7b8794';
    ctx.strokeRect(0, canvas.height - arena.height * s, arena.width * s, arena.height * s);
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
    }
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
    ctx.fillStyle = '#5fb3f9';
    ctx.beginPath();
    ctx.arc(X(x), Y(y), arena.robotRadius * s, 0, 2 * Math.PI);
    ctx.fill();
    ctx.strokeStyle = '#ffffff';
    ctx.beginPath();
    ctx.moveTo(X(x), Y(y));
    ctx.lineTo(X(x + Math.cos(heading) * arena.robotRadius), Y(y + Math.sin(heading) * arena.robotRadius));
    ctx.stroke();
    $('arena-info').textContent = `collisions ${arena.collisions} · targets ${arena.targetsReached}`;
  }

  function drawTable(frame) {
    const rows = [['', 'p50', 'p99', 'p99.9', 'max']];
    for (const [name, s] of Object.entries(frame.latency))
      rows.push([name, us(s.p50), us(s.p99), us(s.p999), us(s.max)]);
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
    $('counters').textContent = Object.entries(frame.counters)
      .map(([key, value]) => `${key} ${Number.isInteger(value) ? value : Number(value).toFixed(2)}`)
      .join(' · ');
  }

  function render() {
    if (dirty && view.latest) {
      dirty = false;
      const frame = view.latest;
      drawRaster();
      drawRates(frame);
      drawLatency(frame);
      drawArena(frame);
      drawTable(frame);
      document.body.dataset.frames = String(view.frames);
    }
    requestAnimationFrame(render);
  }

  connect();
  requestAnimationFrame(render);
})();

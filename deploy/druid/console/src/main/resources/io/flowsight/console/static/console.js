// The console's page: plain JavaScript and echarts, no build step. Every number comes from the
// server's JSON endpoints (/api/...), which run Druid SQL with bound parameters.
// What the page shows is kept in window.__flowsight (and body[data-state]) for tests and for the
// curious: the graph as loaded, the nodes and edges shown, the focused app, the tables' rows.
'use strict';

(function () {
  const HOT_RETRANSMIT_PCT = 1; // an edge with at least 1 % of its segments retransmitted
  const COLORS = { failed: '#d62728', hot: '#ff7f0e', plain: '#8c8c8c', app: '#5470c6', unattributed: '#b0b0b0' };

  const state = (window.__flowsight = {
    graph: null, // {nodes, edges, since, until} as /api/graph answered
    shown: { nodes: [], edges: [] }, // what the chart draws (the focus's neighbourhood, or all)
    focus: null,
    tables: {},
    series: null,
    loads: 0,
  });

  const $ = (id) => document.getElementById(id);
  let graphChart;
  let seriesChart;
  let seriesPair = null;
  // Each refresh is a generation: an answer that comes back after a newer refresh began is
  // dropped, so that a slow answer never overwrites a newer one (filters changed in a row).
  let generation = 0;
  class Stale extends Error {}

  function setState(value, message) {
    document.body.dataset.state = value;
    $('status').textContent = message || '';
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  }

  function formatNumber(value) {
    if (value === null || value === undefined) return '';
    if (typeof value === 'number') {
      return Number.isInteger(value) ? value.toLocaleString('en-US') : (Math.round(value * 1000) / 1000).toString();
    }
    if (Array.isArray(value)) return JSON.stringify(value);
    return String(value);
  }

  function rangeParams() {
    const params = new URLSearchParams();
    const range = $('range').value;
    if (range === 'custom') {
      if ($('since').value) params.set('since', $('since').value + ':00Z');
      if ($('until').value) params.set('until', $('until').value + ':00Z');
    } else {
      params.set('since', range);
    }
    return params;
  }

  async function getJson(path, params) {
    const asked = generation;
    const response = await fetch(path + '?' + params.toString(), { headers: { Accept: 'application/json' } });
    const body = await response.json();
    if (asked !== generation) throw new Stale();
    if (!response.ok) throw new Error(body.error || response.status + ' ' + response.statusText);
    return body;
  }

  function failed(e) {
    if (!(e instanceof Stale)) setState('error', String(e.message || e));
  }

  // --- the graph -------------------------------------------------------------------------------

  function edgeColor(edge) {
    if (edge.failed > 0) return COLORS.failed;
    if (edge.retransmit_pct !== null && edge.retransmit_pct >= HOT_RETRANSMIT_PCT) return COLORS.hot;
    return COLORS.plain;
  }

  function drawGraph() {
    const graph = state.graph;
    const weight = $('weight').value;
    let edges = graph.edges;
    let nodes = graph.nodes;
    if (state.focus) {
      edges = edges.filter((e) => e.source === state.focus || e.target === state.focus);
      const names = new Set([state.focus]);
      edges.forEach((e) => { names.add(e.source); names.add(e.target); });
      nodes = nodes.filter((n) => names.has(n.name));
    }
    state.shown = {
      nodes: nodes.map((n) => n.name),
      edges: edges.map((e) => ({ source: e.source, target: e.target, bytes: e.bytes, connections: e.connections,
        failed: e.failed, retransmits: e.retransmits, color: edgeColor(e) })),
    };
    const maxWeight = Math.max(1, ...edges.map((e) => e[weight]));
    const maxNode = Math.max(1, ...nodes.map((n) => n.bytes_in + n.bytes_out));
    graphChart.setOption({
      tooltip: {
        formatter: (p) => {
          const d = p.data;
          if (p.dataType === 'edge') {
            return escapeHtml(d.source) + ' → ' + escapeHtml(d.target) + '<br>bytes ' + formatNumber(d.edge.bytes) +
              ' (' + formatNumber(d.edge.bytes_client_to_server) + ' up, ' + formatNumber(d.edge.bytes_server_to_client) +
              ' down)<br>connections ' + formatNumber(d.edge.connections) + ', failed ' + formatNumber(d.edge.failed) +
              '<br>retransmits ' + formatNumber(d.edge.retransmits) +
              (d.edge.retransmit_pct === null ? '' : ' (' + formatNumber(d.edge.retransmit_pct) + ' %)') +
              (d.edge.mean_rtt_ms === null ? '' : '<br>mean RTT ' + formatNumber(d.edge.mean_rtt_ms) + ' ms');
          }
          return escapeHtml(d.name) + '<br>in ' + formatNumber(d.node.bytes_in) + ' B, out ' + formatNumber(d.node.bytes_out) + ' B';
        },
      },
      series: [{
        type: 'graph',
        layout: 'force',
        roam: true,
        draggable: true,
        // Laid out at once, not animated: a node stays where it is drawn (and can be clicked there).
        force: { repulsion: 400, edgeLength: [80, 200], gravity: 0.08, layoutAnimation: false },
        edgeSymbol: ['none', 'arrow'],
        edgeSymbolSize: 8,
        label: { show: true, position: 'right', formatter: '{b}' },
        data: nodes.map((n) => ({
          name: n.name,
          node: n,
          symbol: n.unattributed ? 'diamond' : 'circle',
          symbolSize: 14 + 26 * Math.sqrt((n.bytes_in + n.bytes_out) / maxNode),
          itemStyle: { color: n.unattributed ? COLORS.unattributed : COLORS.app,
            borderColor: n.name === state.focus ? '#000' : '#fff', borderWidth: n.name === state.focus ? 3 : 1 },
        })),
        links: edges.map((e) => ({
          source: e.source,
          target: e.target,
          edge: e,
          lineStyle: { color: edgeColor(e), width: 1 + 7 * Math.log1p(e[weight]) / Math.log1p(maxWeight), curveness: 0.15, opacity: 0.9 },
        })),
      }],
    }, true);
    $('clear-focus').hidden = !state.focus;
    document.body.dataset.focus = state.focus || '';
  }

  async function loadGraph(params) {
    const p = new URLSearchParams(params);
    if ($('zone').value) p.set('zone', $('zone').value);
    if ($('cluster').value) p.set('cluster', $('cluster').value);
    state.graph = await getJson('/api/graph', p);
    $('graph-range').textContent = state.graph.since + ' .. ' + state.graph.until + (state.graph.truncated ? ' (the largest edges only)' : '');
    if (state.focus && !state.graph.nodes.some((n) => n.name === state.focus)) state.focus = null;
    drawGraph();
  }

  async function loadFilters(params) {
    const filters = await getJson('/api/filters', params);
    for (const [id, values] of [['zone', filters.zones], ['cluster', filters.clusters]]) {
      const select = $(id);
      const current = select.value;
      select.replaceChildren(new Option('any', ''));
      values.forEach((v) => select.add(new Option(v, v)));
      if (current && !values.includes(current)) select.add(new Option(current, current));
      select.value = current;
    }
  }

  // --- tables ----------------------------------------------------------------------------------

  function fillTable(table, answer) {
    const head = document.createElement('tr');
    answer.columns.forEach((c) => { const th = document.createElement('th'); th.textContent = c; head.append(th); });
    const rows = answer.rows.map((row) => {
      const tr = document.createElement('tr');
      row.forEach((value) => {
        const td = document.createElement('td');
        td.textContent = formatNumber(value);
        if (typeof value === 'number') td.className = 'number';
        tr.append(td);
      });
      return tr;
    });
    const caption = document.createElement('caption');
    caption.textContent = answer.rows.length + ' rows, ' + answer.since + ' .. ' + answer.until;
    table.replaceChildren(caption, head, ...rows);
  }

  async function loadTable(name, params) {
    const answer = await getJson('/api/table/' + name, params);
    state.tables[name] = { columns: answer.columns, rows: answer.rows, since: answer.since, until: answer.until };
    fillTable($('table-' + name), answer);
  }

  async function loadFocus(params) {
    $('focus-section').hidden = !state.focus;
    if (!state.focus) { delete state.tables.dependencies; return; }
    $('focus-app').textContent = state.focus;
    const p = new URLSearchParams(params);
    p.set('app', state.focus);
    await loadTable('dependencies', p);
  }

  // --- the time series -------------------------------------------------------------------------

  async function loadSeries(params) {
    if (!seriesPair && state.graph && state.graph.edges.length) {
      seriesPair = { client: state.graph.edges[0].source, server: state.graph.edges[0].target };
    }
    if (!seriesPair) {
      $('series-pair').textContent = '(no traffic in the range)';
      seriesChart.clear();
      state.series = null;
      return;
    }
    const p = new URLSearchParams(params);
    p.set('client', seriesPair.client);
    p.set('server', seriesPair.server);
    const s = await getJson('/api/series', p);
    state.series = s;
    $('series-pair').textContent = s.client + ' → ' + s.server;
    $('series-step').textContent = 'step ' + s.step + ', ' + s.since + ' .. ' + s.until;
    $('series-note').textContent = s.note || (s.forecast.length ? 'The forecast: for each step the latest issued, with its interval.' : '');
    const series = [{ name: 'bytes', type: 'line', showSymbol: false, data: s.actual, color: COLORS.app }];
    if (s.forecast.length) {
      series.push(
        { name: 'lower', type: 'line', stack: 'band', symbol: 'none', lineStyle: { opacity: 0 }, data: s.forecast.map((f) => [f[0], f[2]]) },
        { name: 'interval', type: 'line', stack: 'band', symbol: 'none', lineStyle: { opacity: 0 }, areaStyle: { color: 'rgba(255,127,14,0.2)' },
          data: s.forecast.map((f) => [f[0], f[3] - f[2]]) },
        { name: 'forecast', type: 'line', symbol: 'none', lineStyle: { type: 'dashed' }, color: COLORS.hot, data: s.forecast.map((f) => [f[0], f[1]]) });
    }
    seriesChart.setOption({
      tooltip: { trigger: 'axis' },
      legend: { data: s.forecast.length ? ['bytes', 'forecast'] : ['bytes'] },
      grid: { left: 70, right: 20, top: 30, bottom: 30 },
      xAxis: { type: 'time' },
      yAxis: { type: 'value', name: 'bytes' },
      series,
    }, true);
  }

  // --- the whole page --------------------------------------------------------------------------

  async function refresh() {
    generation += 1;
    const params = rangeParams();
    setState('loading', 'loading…');
    try {
      await Promise.all([loadGraph(params), loadFilters(params),
        loadTable('top-talkers', params), loadTable('zone-pairs', params), loadTable('ephemeral-ports', params)]);
      await Promise.all([loadFocus(params), loadSeries(params)]);
      state.loads += 1;
      setState('ready', 'updated ' + new Date().toISOString().replace(/\.\d+Z$/, 'Z'));
    } catch (e) {
      failed(e);
    }
  }

  async function focusOn(app) {
    generation += 1;
    state.focus = app;
    drawGraph();
    setState('loading', 'loading…');
    try {
      await loadFocus(rangeParams());
      setState('ready', 'upstream and downstream of ' + (app || 'every app'));
    } catch (e) {
      failed(e);
    }
  }

  async function showPair(client, server) {
    generation += 1;
    seriesPair = { client, server };
    setState('loading', 'loading…');
    try {
      await loadSeries(rangeParams());
      setState('ready', client + ' → ' + server);
    } catch (e) {
      failed(e);
    }
  }

  // For tests: the same as a click, by name.
  state.focusOn = focusOn;
  state.showPair = showPair;

  window.addEventListener('DOMContentLoaded', () => {
    graphChart = echarts.init($('graph'));
    seriesChart = echarts.init($('series'));
    state.graphChart = graphChart;
    graphChart.on('click', (p) => {
      if (p.dataType === 'node') focusOn(p.data.name);
      else if (p.dataType === 'edge') showPair(p.data.source, p.data.target);
    });
    window.addEventListener('resize', () => { graphChart.resize(); seriesChart.resize(); });
    $('range').addEventListener('change', () => {
      $('custom-range').hidden = $('range').value !== 'custom';
      if ($('range').value !== 'custom') refresh();
    });
    for (const id of ['zone', 'cluster', 'since', 'until']) $(id).addEventListener('change', refresh);
    $('weight').addEventListener('change', drawGraph);
    $('clear-focus').addEventListener('click', () => focusOn(null));
    $('controls').addEventListener('submit', (e) => { e.preventDefault(); refresh(); });
    // The range may come in the address: /?since=2026-01-31T10:00:00Z&until=... (a link to share).
    const query = new URLSearchParams(location.search);
    if (query.get('since')) {
      const preset = [...$('range').options].some((o) => o.value === query.get('since'));
      if (preset) {
        $('range').value = query.get('since');
      } else {
        $('range').value = 'custom';
        $('custom-range').hidden = false;
        $('since').value = query.get('since').replace(/(:\d\d)?(\.\d+)?Z$/, '').slice(0, 16);
        if (query.get('until')) $('until').value = query.get('until').replace(/(:\d\d)?(\.\d+)?Z$/, '').slice(0, 16);
      }
    }
    refresh();
  });
})();

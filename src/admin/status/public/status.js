// The status page: renders each Server-Sent Events snapshot from /status/events; actions call the admin API
// with the token the operator types (kept in sessionStorage, never in the page or the URL).
/* global uPlot, EventSource */
'use strict'
;(function () {
  const $ = (id) => document.getElementById(id)
  const WINDOW_SECS = 600
  const series = { t: [], inflight: [] }
  let chart = null
  let last = null

  const fmtAge = (s) => s === null || s === undefined ? '-' : s < 60 ? `${Math.round(s)}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.floor(s / 3600)}h${String(Math.floor(s % 3600 / 60)).padStart(2, '0')}m`
  const fmtTime = (secs) => secs === null || secs === undefined ? '-' : new Date(secs * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')
  const fmtRate = (r) => r === null ? '-' : r < 10 ? r.toFixed(1) : String(Math.round(r))
  const cell = (text, cls) => { const td = document.createElement('td'); td.textContent = text; if (cls) td.className = cls; return td }
  const rows = (tbody, items, render, empty) => {
    tbody.replaceChildren()
    if (items.length === 0) { const tr = document.createElement('tr'); const td = cell(empty, 'empty'); td.colSpan = 9; tr.append(td); tbody.append(tr); return }
    for (const item of items) { const tr = document.createElement('tr'); tr.append(...render(item)); tbody.append(tr) }
  }

  function makeChart () {
    const el = $('chart')
    const Chart = uPlot
    chart = new Chart({
      width: el.clientWidth || 900,
      height: 200,
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(5, max * 1.2)] } },
      axes: [{ stroke: '#8592a3', grid: { stroke: '#222b36' } }, { stroke: '#8592a3', grid: { stroke: '#222b36' } }],
      series: [{}, { label: 'inflight', stroke: '#4c8dff', width: 2, fill: 'rgba(76,141,255,0.12)' }],
      legend: { show: true }
    }, [series.t, series.inflight], el)
    window.addEventListener('resize', () => chart.setSize({ width: el.clientWidth, height: 200 }))
  }

  function rate (now, prev, name) {
    if (prev === null) return null
    const dt = now.at - prev.at
    return dt > 0 ? Math.max(0, (now.counters[name] - prev.counters[name]) / dt) : null
  }

  function render (s) {
    const d = s.drain
    const mode = d === null ? 'unknown' : d.mode
    $('mode').textContent = mode
    $('mode').dataset.mode = mode
    $('inflight').textContent = d === null || d.inflight_settlements === null ? '?' : String(d.inflight_settlements)
    $('oldest').textContent = `oldest ${fmtAge(d?.oldest_inflight_age_secs)}${d?.reason ? ` · ${d.reason}` : ''}`
    $('ibc-count').textContent = d === null || d.pending_ibc_packets === null ? '?' : String(d.pending_ibc_packets)
    $('refusals').textContent = fmtRate(rate(s, last, 'intent_gate_refusals_total'))
    $('holds').textContent = fmtRate(rate(s, last, 'intent_gate_holds_total'))
    $('requests').textContent = fmtRate(rate(s, last, 'intent_gate_requests_total'))
    $('active').textContent = s.upstreams?.active ?? '-'
    // Which gateway this is (a fleet has several pages) and what its clients hear right now.
    const leader = s.upgrade?.leader
    $('where').textContent = `instance ${s.instance ?? leader?.instance ?? '?'}${leader?.is_leader ? ' (leader)' : ''} · namespace ${s.namespace ?? '?'}`
    const c = s.clients
    $('told').textContent = c === null || c === undefined ? '-' : c.accepting ? 'accepting' : `503 · Retry-After ${c.retry_after_secs} s`
    const deadline = d?.deadline ?? null
    $('deadline').textContent = deadline === null
      ? (d?.started_at ? 'drain without a deadline' : 'no drain deadline')
      : `drain deadline ${fmtTime(deadline)} (${deadline > s.at ? `in ${fmtAge(deadline - s.at)}` : `passed ${fmtAge(s.at - deadline)} ago`})`

    rows($('upstreams'), s.upstreams?.upstreams ?? [], (u) => {
      const color = cell(u.color, 'color')
      if (u.active) { const star = document.createElement('span'); star.className = 'star'; star.textContent = '● active'; color.append(star) }
      const health = cell(u.health); const dot = document.createElement('span'); dot.className = `dot ${u.health}`; health.prepend(dot)
      return [color, health, cell(u.inflight === null ? '?' : String(u.inflight)), cell(u.versions.join(', ')), cell(u.last_check_latency_ms === null ? '-' : `${Math.round(u.last_check_latency_ms)} ms`)]
    }, 'no upstream configured')

    const up = s.upgrade
    const phases = $('phases')
    phases.replaceChildren()
    if (up === null || up.state === 'idle') {
      $('upgrade-state').textContent = 'no upgrade has run'
      $('upgrade-id').textContent = ''
      $('upgrade-eta').textContent = ''
    } else {
      $('upgrade-id').textContent = up.upgrade_id ?? ''
      $('upgrade-state').textContent = `${up.state} · ${up.from_version ?? '?'} → ${up.target_version ?? '?'} · ${up.progress_pct}%${up.error ? ` · ${up.error}` : ''}`
      for (const p of up.phases) {
        const li = document.createElement('li')
        li.className = p.ended_at === null ? 'running' : (p.outcome === 'failed' || p.outcome === 'aborted') ? 'failed' : 'done'
        li.textContent = p.phase
        const t = document.createElement('span'); t.className = 't'
        t.textContent = p.ended_at === null ? 'running' : `${(p.ended_at - p.started_at).toFixed(1)}s · ${p.outcome ?? ''}`
        li.append(t)
        phases.append(li)
      }
      const eta = up.estimated_resume_at ?? (up.estimated_completion ? fmtTime(up.estimated_completion) : null)
      $('upgrade-eta').textContent = eta ? `estimated resume ${eta}` : ''
    }

    rows($('ibc'), s.ibc ?? [], (p) => [cell(`${p.port ?? ''}/${p.channel}`), cell(String(p.sequence)), cell(p.sent_height === null ? '-' : String(p.sent_height)), cell(fmtAge(p.age_secs), p.stale ? 'bad' : '')], 'nothing pending')
    rows($('history'), s.history?.upgrades ?? [], (u) => [cell(u.upgrade_id), cell(`${u.from_version ?? '?'} → ${u.target_version}`), cell(u.state.replace('_', ' '), u.state === 'completed' ? 'good' : ['rolled_back', 'failed'].includes(u.state) ? 'bad' : ''), cell(fmtTime(u.started_at)), cell(u.error ?? '')], 'no upgrade has run')
    // The fleet: each instance with the token; without it, how many are in each state.
    const fleet = s.instances?.instances ?? null
    const counts = s.instances?.counts ??
      (fleet === null ? null : fleet.reduce((n, i) => ({ ...n, [i.state]: (n[i.state] ?? 0) + 1 }), { serving: 0, leaving: 0, gone: 0 }))
    $('instance-counts').textContent = counts === null ? '' : `${counts.serving ?? 0} serving · ${counts.leaving ?? 0} leaving · ${counts.gone ?? 0} gone`
    rows($('instances'), fleet ?? [], (i) => [
      cell(i.self ? `${i.id} (this)` : i.id), cell(i.version), cell(i.layout),
      cell(i.state, i.state === 'serving' ? 'good' : i.state === 'gone' ? 'bad' : 'warn'),
      cell(fmtAge(Math.max(0, s.at - Date.parse(i.last_seen_at) / 1000)) + ' ago'), cell(String(i.journaled))
    ], fleet === null ? (counts === null ? 'the registry cannot be read' : 'each instance is shown with the admin token') : 'no instance registered')

    rows($('checkpoints'), (s.checkpoints?.checkpoints ?? []).slice(0, 8), (c) => [cell(c.id), cell(c.upgrade_id ?? '-'), cell(fmtTime(c.created_at)), cell(String(c.inflight_count))], 'no checkpoint yet')

    series.t.push(s.at)
    series.inflight.push(d === null ? null : d.inflight_settlements)
    while (series.t.length > 0 && series.t[0] < s.at - WINDOW_SECS) { series.t.shift(); series.inflight.shift() }
    if (chart === null) makeChart()
    chart.setData([series.t, series.inflight])
    last = s
    $('conn').textContent = `live · ${new Date(s.at * 1000).toLocaleTimeString()}`
  }

  // The first paint comes from the snapshot the page carries, not from the stream's first event (a second away).
  const first = JSON.parse($('first-snapshot')?.textContent ?? 'null')
  if (first !== null) render(first)
  // Without the token the stream carries the public view (no upstream URLs or errors, no history or
  // checkpoints); with it, the full one. EventSource cannot send a header, so with a token the stream is read
  // through fetch.
  const onEvent = (name, data) => {
    if (name === 'snapshot') render(JSON.parse(data))
    if (name === 'failure') $('conn').textContent = `the gateway could not read its state: ${JSON.parse(data).message}`
  }
  let stop = () => {}
  function connect (secret) {
    stop()
    if (secret === '') {
      const events = new EventSource('/status/events')
      events.addEventListener('snapshot', (e) => onEvent('snapshot', e.data))
      events.addEventListener('failure', (e) => onEvent('failure', e.data))
      events.onerror = () => { $('conn').textContent = 'reconnecting…' }
      stop = () => events.close()
      return
    }
    const abort = new AbortController()
    stop = () => abort.abort()
    const retry = () => { if (!abort.signal.aborted) { $('conn').textContent = 'reconnecting…'; setTimeout(() => connect(secret), 2000) } }
    fetch('/status/events', { headers: { authorization: `Bearer ${secret}` }, signal: abort.signal }).then(async (res) => {
      if (!res.ok) { retry(); return }
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
      let buffer = ''
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffer += value
        let end
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          const name = /^event: (.*)$/m.exec(block)?.[1]
          const data = /^data: (.*)$/m.exec(block)?.[1]
          if (name !== undefined && data !== undefined) onEvent(name, data)
        }
      }
      retry()
    }).catch(retry)
  }

  // Actions: the admin API itself, with the operator's token.
  const token = $('token')
  token.value = sessionStorage.getItem('intent-gate-token') ?? ''
  token.addEventListener('change', () => { sessionStorage.setItem('intent-gate-token', token.value); connect(token.value) })
  connect(token.value)
  // The reason box goes with every action: the audit log keeps it.
  const why = () => ($('reason').value ? { reason: $('reason').value } : {})
  const ACTIONS = {
    'drain-start': () => ['/admin/drain/start', why(), 'Start draining? Every instance refuses new intents (503) until the drain is stopped.'],
    'drain-stop': () => ['/admin/drain/stop', {}, 'Stop draining? Intents are accepted again (unless an upgrade runs).'],
    'swap-blue': () => ['/admin/upstreams/active', { color: 'blue', ...why() }, 'Swap to blue? New intents go to blue; inflight ones stay with their owner.'],
    'swap-green': () => ['/admin/upstreams/active', { color: 'green', ...why() }, 'Swap to green? New intents go to green; inflight ones stay with their owner.'],
    abort: () => ['/admin/upgrade/abort', why(), 'Abort the upgrade? What was done is rolled back and the previous version resumes.']
  }
  for (const button of document.querySelectorAll('button[data-action]')) {
    button.addEventListener('click', async () => {
      const result = $('result')
      if (token.value === '') { result.className = 'bad'; result.textContent = 'enter the admin token first'; token.focus(); return }
      sessionStorage.setItem('intent-gate-token', token.value)
      const [path, body, question] = ACTIONS[button.dataset.action]()
      // Every action changes what every instance does: one click is not enough.
      if (!window.confirm(question)) { result.className = 'muted'; result.textContent = `${button.textContent}: cancelled`; return }
      result.className = 'muted'
      result.textContent = `${button.textContent}…`
      try {
        const res = await fetch(path, { method: 'POST', headers: { authorization: `Bearer ${token.value}`, 'content-type': 'application/json', 'x-intent-gate-via': 'status' }, body: JSON.stringify(body) })
        const answer = await res.json()
        result.className = res.ok ? 'ok' : 'bad'
        result.textContent = res.ok ? `${button.textContent}: done (${res.status})` : `${button.textContent} refused (${res.status}): ${answer.detail ?? answer.title}`
      } catch (err) {
        result.className = 'bad'
        result.textContent = `${button.textContent} failed: ${err.message}`
      }
    })
  }
})()

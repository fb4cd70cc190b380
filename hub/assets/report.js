/* Community Hub report: draws the charts from the page's report-data JSON with the bundled
 * ECharts. Member names are untrusted: charts draw them as text, and tooltips (HTML) escape them
 * with echarts.format.encodeHTML. When every chart has rendered, <body data-rendered="true">. */
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var esc = echarts.format.encodeHTML;
  var charts = [];
  var waiting = 0;
  var created = false;
  var COLORS = ['#2f5d9b', '#d9822b', '#3c9d5d', '#9b3fa3', '#c0362c', '#6b7a8f', '#1f9ea8', '#c9a227'];
  var LEVEL_COLORS = {promoter: '#c0362c', ambassador: '#d9822b', contributor: '#2f5d9b',
                      participant: '#7fa3d1', observer: '#b8c0cc'};

  function markRendered() {
    if (created && waiting === 0) document.body.setAttribute('data-rendered', 'true');
  }

  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el) return null;
    var c = echarts.init(el, null, {renderer: 'canvas'});
    var done = false;
    waiting++;
    c.on('finished', function () {
      if (!done) { done = true; waiting--; markRendered(); }
    });
    option.animation = false;
    option.color = option.color || COLORS;
    c.setOption(option);
    charts.push(c);
    return c;
  }

  function scopeName(p) { return p === null ? 'all platforms' : p; }
  function num(v, digits) {
    if (v === null || v === undefined) return '–';
    return Number(v).toLocaleString('en', {maximumFractionDigits: digits || 0, minimumFractionDigits: digits || 0});
  }
  function pct(v) { return v === null || v === undefined ? '–' : (v * 100).toFixed(0) + '%'; }

  var scopes = [null].concat(data.platforms);
  var byScope = {};
  scopes.forEach(function (s) { byScope[String(s)] = []; });
  data.weekly.forEach(function (w) { (byScope[String(w.platform)] = byScope[String(w.platform)] || []).push(w); });
  var weeks = byScope['null'].map(function (w) { return w.week; });

  function weeklyLines(key, title) {
    return {
      title: {text: title, left: 0, textStyle: {fontSize: 13}},
      tooltip: {trigger: 'axis'},
      legend: {bottom: 0},
      grid: {left: 48, right: 12, top: 30, bottom: 54},
      xAxis: {type: 'category', data: weeks, boundaryGap: false},
      yAxis: {type: 'value', minInterval: 1},
      series: scopes.map(function (s) {
        return {name: scopeName(s), type: 'line', showSymbol: false, connectNulls: true,
                lineStyle: {width: s === null ? 2.5 : 1.5},
                data: byScope[String(s)].map(function (w) { return w[key]; })};
      })
    };
  }

  chart('chart-messages', weeklyLines('messages', 'Messages'));
  chart('chart-active', weeklyLines('active_members', 'Active members (wrote)'));
  chart('chart-contributors', weeklyLines('contributors', 'Contributors'));

  // Stages: all platforms as a thick step line, each platform dashed.
  var stageByScope = {};
  data.stages.forEach(function (s) { (stageByScope[String(s.platform)] = stageByScope[String(s.platform)] || {})[s.week] = s; });
  chart('chart-stages', {
    tooltip: {
      trigger: 'axis',
      formatter: function (items) {
        var lines = [esc(items[0].axisValue)];
        items.forEach(function (it) {
          var row = (stageByScope[it.seriesId] || {})[it.axisValue];
          if (row) lines.push(it.marker + '<b>' + esc(it.seriesName) + '</b>: stage ' + row.stage + ', ' +
                             esc(data.stage_names[String(row.stage)]) + '<br><span style="font-size:11px">' +
                             esc(row.reason) + '</span>');
        });
        return '<div style="max-width:420px;white-space:normal">' + lines.join('<br>') + '</div>';
      }
    },
    legend: {top: 0, right: 0},
    grid: {left: 150, right: 12, top: 30, bottom: 28},
    xAxis: {type: 'category', data: weeks},
    yAxis: {type: 'value', min: 1, max: 4, interval: 1,
            axisLabel: {formatter: function (v) { return v + ' ' + (data.stage_names[String(v)] || ''); }}},
    series: scopes.filter(function (s) { return stageByScope[String(s)]; }).map(function (s) {
      return {id: String(s), name: scopeName(s), type: 'line', step: 'middle', showSymbol: false,
              lineStyle: {width: s === null ? 3 : 1.5, type: s === null ? 'solid' : 'dashed'},
              data: weeks.map(function (w) { var r = stageByScope[String(s)][w]; return r ? r.stage : null; })};
    })
  });

  // Reputation of the top 15, stacked by part (points = weight × part).
  var top = data.top_members.slice(0, 15).reverse();
  chart('chart-reputation', {
    tooltip: {
      trigger: 'axis', axisPointer: {type: 'shadow'},
      formatter: function (items) {
        var m = top[items[0].dataIndex];
        var lines = ['<b>' + esc(m.name) + '</b> (' + esc(m.level) + '): reputation ' + num(m.reputation, 1)];
        data.parts.forEach(function (p) {
          var part = m.parts[p];
          lines.push(esc(p.replace(/_/g, ' ')) + ': ' + num(part.points, 1) + ' = ' + num(part.value, 2) + ' × ' + part.weight);
        });
        return lines.join('<br>');
      }
    },
    legend: {top: 0, type: 'scroll'},
    grid: {left: 8, right: 24, top: 32, bottom: 8, containLabel: true},
    xAxis: {type: 'value'},
    yAxis: {type: 'category', data: top.map(function (m) {
      var rank = data.top_members.indexOf(m) + 1;
      return rank + '. ' + (m.name.length > 28 ? m.name.slice(0, 27) + '…' : m.name);
    })},
    series: data.parts.map(function (p) {
      return {name: p.replace(/_/g, ' '), type: 'bar', stack: 'reputation',
              data: top.map(function (m) { return m.parts[p].points; })};
    })
  });

  // The network: the promoters and the persons with most interactions.
  var net = data.network;
  function scaler(values, low, high) {  // min to max onto low to high: sizes that differ even among the busiest
    var min = Math.min.apply(null, values.concat([0])), max = Math.max.apply(null, values.concat([1]));
    if (values.length) min = Math.min.apply(null, values);
    return function (v) { return max > min ? low + (high - low) * Math.sqrt((v - min) / (max - min)) : (low + high) / 2; };
  }
  var nodeSize = scaler(net.nodes.map(function (n) { return n.interactions; }), 6, 34);
  var edgeWidth = scaler(net.edges.map(function (e) { return e.interactions; }), 0.5, 6);
  var categories = ['promoter', 'ambassador', 'contributor', 'participant', 'observer'];
  var names = {};
  net.nodes.forEach(function (n) { names[n.person_id] = n.name; });
  function categoryOf(n) {
    if (n.promoter) return 0;
    if (n.ambassador) return 1;
    var i = categories.indexOf(n.level);
    return i > 1 ? i : 4;
  }
  chart('chart-network', {
    tooltip: {
      formatter: function (p) {
        if (p.dataType === 'edge') {
          var e = p.data.edge;
          return esc(names[e.source]) + ' → ' + esc(names[e.target]) + ': ' + num(e.forward || 0) + '<br>' +
                 esc(names[e.target]) + ' → ' + esc(names[e.source]) + ': ' + num(e.backward || 0);
        }
        var n = p.data.node;
        return '<b>' + esc(n.name) + '</b>' + (n.promoter ? ' (promoter)' : '') + (n.ambassador ? ' (ambassador)' : '') +
               '<br>' + esc(n.platforms.join(', ')) + (n.level ? ', ' + esc(n.level) : '') +
               '<br>' + num(n.interactions) + ' interactions: ' + num(n.given) + ' given, ' + num(n.received) + ' received';
      }
    },
    legend: {top: 0, data: categories.map(function (c) { return c; })},
    series: [{
      type: 'graph', layout: 'force', roam: true, draggable: true, zoom: 0.85,
      force: {repulsion: Math.max(120, 2 * net.nodes.length), gravity: 0.06, edgeLength: [40, 160], friction: 0.2,
              layoutAnimation: false},
      categories: categories.map(function (c) { return {name: c, itemStyle: {color: LEVEL_COLORS[c]}}; }),
      label: {position: 'right', fontSize: 10},
      labelLayout: {hideOverlap: true},
      emphasis: {focus: 'adjacency', label: {show: true}},
      lineStyle: {color: 'source', opacity: 0.35, curveness: 0.1},
      data: net.nodes.map(function (n, i) {
        var angle = 2 * Math.PI * i / Math.max(1, net.nodes.length);
        return {id: n.person_id, name: n.name, value: n.interactions, category: categoryOf(n), node: n,
                x: 300 + 250 * Math.cos(angle), y: 300 + 250 * Math.sin(angle),
                symbolSize: nodeSize(n.interactions),
                itemStyle: n.promoter ? {borderColor: '#000', borderWidth: 2} : undefined,
                label: {show: n.promoter || i < 15}};
      }),
      links: net.edges.map(function (e) {
        return {source: e.source, target: e.target, value: e.interactions, edge: e,
                lineStyle: {width: edgeWidth(e.interactions)}};
      })
    }]
  });

  // Newcomers: how many arrived, how many of them wrote within 30 days, and the share.
  var all = byScope['null'];
  chart('chart-newcomers', {
    title: {text: 'New members', left: 0, textStyle: {fontSize: 13}},
    tooltip: {trigger: 'axis'},
    legend: {bottom: 0},
    grid: {left: 40, right: 44, top: 30, bottom: 54},
    xAxis: {type: 'category', data: weeks},
    yAxis: [{type: 'value', minInterval: 1}, {type: 'value', min: 0, max: 1, axisLabel: {formatter: pct}}],
    series: [
      {name: 'new members', type: 'bar', color: '#b8c7dd', data: all.map(function (w) { return w.new_members; })},
      {name: 'wrote within 30 days', type: 'bar', barGap: '-100%', color: '#2f5d9b',
       data: all.map(function (w) { return w.new_members_active_30d; })},
      {name: 'activation', type: 'line', yAxisIndex: 1, connectNulls: true, color: '#d9822b',
       tooltip: {valueFormatter: pct},
       data: all.map(function (w) { return w.new_members ? w.new_members_active_30d / w.new_members : null; })}
    ]
  });
  chart('chart-reply', {
    title: {text: 'Median minutes to first reply', left: 0, textStyle: {fontSize: 13}},
    tooltip: {trigger: 'axis', valueFormatter: function (v) { return num(v, 1); }},
    legend: {bottom: 0},
    grid: {left: 48, right: 12, top: 30, bottom: 54},
    xAxis: {type: 'category', data: weeks},
    yAxis: {type: 'value'},
    series: scopes.map(function (s) {
      return {name: scopeName(s), type: 'line', connectNulls: true, symbolSize: 4,
              data: byScope[String(s)].map(function (w) { return w.median_minutes_to_reply; })};
    })
  });

  created = true;
  markRendered();
  window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });
}());

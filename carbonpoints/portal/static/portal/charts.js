// Draws the portal's charts with the vendored Chart.js from data the page embeds (json_script).
(function () {
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var data = JSON.parse(document.getElementById(canvas.dataset.chart).textContent);
    var style = getComputedStyle(document.documentElement);
    new Chart(canvas, {
      type: "bar",
      data: { labels: data.labels, datasets: [{ label: data.label, data: data.values,
        backgroundColor: style.getPropertyValue("--green").trim() || "#1b7a43", borderRadius: 3 }] },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { display: false },
          tooltip: { callbacks: { label: function (item) { return item.formattedValue + " " + data.unit; } } } },
        scales: { x: { grid: { display: false }, ticks: { maxTicksLimit: 8 } },
          y: { beginAtZero: true, title: { display: true, text: data.unit } } }
      }
    });
    canvas.dataset.rendered = "1";
  });
})();

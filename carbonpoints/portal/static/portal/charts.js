// Draws the portal's charts with the vendored Chart.js from data the page embeds (json_script).
(function () {
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var data = JSON.parse(document.getElementById(canvas.dataset.chart).textContent);
    var style = getComputedStyle(document.documentElement);
    var green = style.getPropertyValue("--green").trim() || "#1b7a43";
    var datasets = [{ label: data.label, data: data.values, order: 2,
      backgroundColor: green, borderRadius: 3 }];
    var scales = { x: { grid: { display: false }, ticks: { maxTicksLimit: 8 } },
      y: { beginAtZero: true, title: { display: true, text: data.unit } } };
    if (data.stacks) {  // where the actions happened: one stacked bar per region
      var colours = [green, "#2b6cb0", "#805ad5", "#c05621", "#2c7a7b", "#97266d"];
      datasets = data.stacks.map(function (stack, n) {
        return { label: stack.label, data: stack.values, order: 2, stack: "regions",
          backgroundColor: colours[n % colours.length], borderRadius: 2 };
      });
      scales.x.stacked = true;
      scales.y.stacked = true;
    }
    if (data.growth) {  // the account growing with its reductions: a line on its own axis, in kg
      datasets.push({ type: "line", label: data.growth_label, data: data.growth, yAxisID: "growth", order: 1,
        borderColor: "#b7791f", backgroundColor: "#b7791f", pointRadius: 0, borderWidth: 2, tension: 0.2 });
      scales.growth = { position: "right", grid: { display: false },
        title: { display: true, text: data.growth_unit } };
    }
    new Chart(canvas, {
      type: "bar",
      data: { labels: data.labels, datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { display: !!(data.growth || data.stacks), position: "bottom", labels: { boxWidth: 12 } },
          tooltip: { callbacks: { label: function (item) {
            var unit = item.dataset.yAxisID === "growth" ? data.growth_unit : data.unit;
            return item.dataset.label + ": " + item.formattedValue + " " + unit; } } } },
        scales: scales
      }
    });
    canvas.dataset.rendered = "1";
  });
})();

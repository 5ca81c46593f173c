// Reads the dashboard as the browser laid it out: the drawing's geometry
// (texts, boxes, lines as points) and what each row, arrow and sibling mark
// says, with the colours the browser computed. Coordinates are CSS pixels
// relative to the viewport; every item is measured in one pass, so they
// agree with each other.
(() => {
  "use strict";
  const svg = document.querySelector("svg.topology");
  const rect = (el) => {
    const r = el.getBoundingClientRect();
    return { X: r.x, Y: r.y, W: r.width, H: r.height };
  };
  const outcome = (el, prefix) => {
    const c = [...el.classList].find((c) => c.startsWith(prefix));
    return c ? c.slice(prefix.length) : "";
  };
  // points samples a path every 3 units of its length, in page coordinates.
  const points = (path) => {
    const ctm = path.getScreenCTM();
    const out = [];
    const len = path.getTotalLength();
    for (let at = 0; at <= len; at += 3) {
      const p = path.getPointAtLength(at).matrixTransform(ctm);
      out.push({ X: p.x, Y: p.y });
    }
    return out;
  };
  // text is what the element shows: its tooltips (<title>) are not drawn.
  const text = (el) => {
    const shown = el.cloneNode(true);
    shown.querySelectorAll("title").forEach((t) => t.remove());
    return shown.textContent.replace(/\s+/g, " ").trim();
  };
  const labelled = (el) =>
    (el.getAttribute("aria-labelledby") || "")
      .split(/\s+/)
      .filter(Boolean)
      .map((id) => text(document.getElementById(id) || document.createElement("x")))
      .join(" ");
  // The markers' colours: the legend says which colour means what.
  const legend = {};
  for (const li of document.querySelectorAll(".legend li")) {
    const o = outcome(li, "legend-");
    if (o) legend[o] = getComputedStyle(li).color;
  }
  return {
    drawing: {
      frame: rect(svg),
      texts: [...svg.querySelectorAll("text")].map((el) => ({ text: text(el).slice(0, 80), box: rect(el) })),
      boxes: [...svg.querySelectorAll("g > rect")].map((el) => ({
        label: text(el.parentElement.querySelector("text") || el),
        box: rect(el),
      })),
      lines: [
        ...[...svg.querySelectorAll("g.edge")].filter((g) => g.querySelector("path")).map((g) => ({
          key: g.dataset.edge,
          points: points(g.querySelector("path")),
        })),
        ...[...svg.querySelectorAll("path.rail")].map((p, i) => ({ key: "rail " + i, points: points(p) })),
      ],
    },
    rows: [...document.querySelectorAll("tr[data-path]")].map((tr) => ({
      id: tr.dataset.path,
      outcome: outcome(tr, "row-"),
      hop: tr.classList.contains("hop"),
      drawn: !tr.querySelector(".tag[title^='The picture has no arrow']"),
      colour: getComputedStyle(tr).borderLeftColor,
    })),
    marks: [
      ...[...svg.querySelectorAll("g.edge")].map((g) => ({
        key: g.dataset.edge,
        outcome: outcome(g, "edge-"),
        colour: g.querySelector("path") ? getComputedStyle(g.querySelector("path")).stroke : "",
      })),
      ...[...svg.querySelectorAll("tspan.peer[data-edge]")].map((t) => ({
        key: t.dataset.edge,
        outcome: outcome(t, "peer-"),
        colour: getComputedStyle(t).fill,
      })),
    ],
    legend: legend,
    pictureName: labelled(svg),
    pictureRole: svg.getAttribute("role") || "",
    figureScrolls: svg.parentElement.scrollWidth > svg.parentElement.clientWidth,
    figureScrollable: ["auto", "scroll"].includes(getComputedStyle(svg.parentElement).overflowX),
  };
})()

// A few line icons, drawn here (no icon font, no request).

const NS = "http://www.w3.org/2000/svg";

function icon(...paths: string[]): SVGSVGElement {
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  for (const d of paths) {
    const path = document.createElementNS(NS, "path");
    path.setAttribute("d", d);
    svg.appendChild(path);
  }
  return svg;
}

function stroked(svg: SVGSVGElement): SVGSVGElement {
  svg.style.fill = "none";
  svg.style.stroke = "currentColor";
  svg.style.strokeWidth = "2";
  svg.style.strokeLinecap = "round";
  svg.style.strokeLinejoin = "round";
  return svg;
}

export const chatIcon = (): SVGSVGElement =>
  icon(
    "M5 3.5h14A2.5 2.5 0 0 1 21.5 6v9a2.5 2.5 0 0 1-2.5 2.5H10l-4.6 3.7c-.5.4-1.2 0-1.2-.6v-3.1H5A2.5 2.5 0 0 1 2.5 15V6A2.5 2.5 0 0 1 5 3.5z",
  );

export const downIcon = (): SVGSVGElement => stroked(icon("M6 9.5l6 6 6-6"));

export const clipIcon = (): SVGSVGElement =>
  stroked(icon("M20 11.5l-7.8 7.8a5 5 0 0 1-7.1-7.1l8.5-8.5a3.3 3.3 0 0 1 4.7 4.7l-8.5 8.5a1.7 1.7 0 0 1-2.4-2.4l7.8-7.8"));

export const smileIcon = (): SVGSVGElement =>
  stroked(icon("M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18z", "M8.5 14.5c1.8 2 5.2 2 7 0", "M9 9.5h.01", "M15 9.5h.01"));

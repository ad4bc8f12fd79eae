// WCAG 2.x contrast of every visible text against the colour behind it
// (4.5:1, or 3:1 for large text) and of form-field borders (3:1, non-text
// contrast). Evaluated in the page by test_accessibility.py; returns the failures.
() => {
  const parse = (value) => {
    const parts = value.match(/rgba?\(([^)]+)\)/)[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return { r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1 };
  };
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a),
    a: 1,
  });
  const luminance = ({ r, g, b }) => {
    const channel = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const backdrop = (element) => {
    const layers = [];
    for (let node = element; node; node = node.parentElement) {
      const colour = parse(getComputedStyle(node).backgroundColor);
      if (colour.a > 0) layers.push(colour);
      if (colour.a >= 1) break;
    }
    return layers.reverse().reduce((below, layer) => over(layer, below), { r: 255, g: 255, b: 255, a: 1 });
  };
  const visible = (element) => {
    const box = element.getBoundingClientRect();
    return box.width > 1 && box.height > 1 && getComputedStyle(element).visibility !== "hidden";
  };
  const failures = [];
  const checked = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const element = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || checked.has(element) || !visible(element)) continue;
    checked.add(element);
    const style = getComputedStyle(element);
    const background = backdrop(element);
    const contrast = ratio(over(parse(style.color), background), background);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    const needed = large ? 3 : 4.5;
    if (contrast < needed) {
      failures.push(`${contrast.toFixed(2)} < ${needed}: "${element.textContent.trim().slice(0, 40)}"`);
    }
  }
  for (const input of document.querySelectorAll("input")) {
    if (!visible(input)) continue;
    const border = parse(getComputedStyle(input).borderTopColor);
    const contrast = ratio(border, backdrop(input.parentElement));
    if (contrast < 3) failures.push(`${contrast.toFixed(2)} < 3: border of ${input.name || input.type}`);
  }
  return failures;
}

() => {
  // facts about a page as laid out, measured in the browser (tests/browser/test_layouts.py)
  const vw = window.innerWidth;
  // drawn: in the layout, not hidden, not inside a closed <details>
  const visible = el => { const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && el.checkVisibility({visibilityProperty: true}); };
  const clipsX = el => ['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(el).overflowX);
  const inScroller = el => { for (let p = el.parentElement; p && p !== document.body; p = p.parentElement)
    if (clipsX(p)) return true; return false; };
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '');
  const overflowing = [];
  document.querySelectorAll('body *').forEach(el => {
    if (!visible(el) || inScroller(el)) return;
    const r = el.getBoundingClientRect();
    if (r.right > 0 && r.left < vw && (r.right > vw + 1 || r.left < -1)) overflowing.push(name(el) + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
  });
  // text laid out about one character per line: at least 3 lines, at most 2 characters each
  const brokenText = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    if (text.length < 3 || !node.parentElement || !visible(node.parentElement)) continue;
    const range = document.createRange(); range.selectNodeContents(node);
    const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
    if (tops.size >= 3 && text.replace(/\s+/g, '').length <= tops.size * 2) brokenText.push(text.slice(0, 30));
  }
  // a label cut off inside its own box ("Englis")
  const clipped = [];
  document.querySelectorAll('button, a.btn, .lang, .brand, .topbar-hall, .topbar-user').forEach(el => {
    if (visible(el) && el.scrollWidth > el.clientWidth + 1) clipped.push(name(el) + ' ' + el.textContent.trim().slice(0, 20));
  });
  const header = document.querySelector('header.topbar, header.kiosk-head');
  return {
    viewport: [vw, window.innerHeight],
    scrollWidth: document.documentElement.scrollWidth,
    scrollHeight: document.documentElement.scrollHeight,
    header: header ? Math.round(header.getBoundingClientRect().height) : null,
    overflowing: overflowing.slice(0, 10), brokenText: brokenText.slice(0, 10), clipped: clipped.slice(0, 10),
  };
}

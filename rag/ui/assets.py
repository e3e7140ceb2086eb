"""The page's own CSS and the few lines of script it runs (no remote files: see rag.ui.security)."""

CSS = """
/* Gradio's Source Sans Pro SemiBold file is a 5 KB subset with a handful of glyphs, so every
   weight-600 text was set in two fonts (a thin "A" and "B" among fallback letters). The complete
   Bold file serves weight 600 too. */
@font-face { font-family: 'Source Sans Pro'; font-weight: 600; font-style: normal;
  src: url('static/fonts/SourceSansPro/SourceSansPro-Bold.woff2') format('woff2'); }
#chat .empty { color: #6b7280; padding: 12px 4px; }
#chat .turn { border-bottom: 1px solid #e5e7eb; padding: 10px 0 14px; }
#chat .q { font-weight: 600; margin-bottom: 6px; }
#chat .who { display: inline-block; font-size: 0.75em; font-weight: 500; color: #6b7280; margin-right: 6px;
  text-transform: uppercase; letter-spacing: 0.03em; }
#chat .a { white-space: pre-wrap; line-height: 1.5; }
#chat .a.refused { color: #991b1b; }
#chat .a.short { font-weight: 600; margin-bottom: 4px; }
#chat .thinking { color: #6b7280; font-style: italic; }
#chat a.cite { color: #1d4ed8; text-decoration: none; font-weight: 600; padding: 0 1px; border-radius: 3px; }
#chat a.cite:hover, #chat a.cite:focus { background: #dbeafe; }
.sources details > summary { cursor: pointer; color: #374151; font-size: 0.9em; margin: 8px 0 2px; }
.citation { border-left: 3px solid #2563eb; padding: 6px 10px; margin: 8px 0; border-radius: 0 6px 6px 0;
  scroll-margin: 80px; transition: background 0.3s; }
.citation.hl { background: #eff6ff; outline: 2px solid #93c5fd; }
.citation mark, .article mark { background: #fde68a; color: inherit; padding: 0 2px; }
.card-head { margin-bottom: 4px; }
.card-head .n { color: #1d4ed8; font-weight: 700; }
.card-head .art-title { font: inherit; font-weight: 600; }
.byline { color: #4b5563; font-size: 0.9em; margin-left: 4px; }
.passage { line-height: 1.5; white-space: pre-line; }  /* a heading line stays its own line */
.where { color: #6b7280; font-size: 0.78em; margin-top: 4px; }
.file { font-family: ui-monospace, monospace; font-size: 0.9em; color: #6b7280; }
.open-article { border: 1px solid #d1d5db; border-radius: 4px; background: transparent; padding: 0 6px;
  margin-left: 6px; cursor: pointer; font-size: 1em; color: #1d4ed8; }
.refusal { border-left: 3px solid #dc2626; background: #fef2f2; padding: 8px 10px; margin-top: 8px; }
.also { color: #555; font-style: italic; font-size: 0.9em; }
.notice, .unsure { border-left: 3px solid #d97706; background: #fffbeb; padding: 6px 10px; margin: 8px 0; }
.unsure { font-size: 0.92em; }
.unsupported { border-left: 3px solid #dc2626; background: #fef2f2; padding: 6px 10px; margin: 8px 0; }
#status .lead { font-size: 1.05em; font-weight: 600; margin: 0 0 4px; }
#status .hint { color: #4b5563; margin: 0; }
#article-view .article-text { white-space: pre-wrap; max-height: 420px; overflow: auto; line-height: 1.5;
  border: 1px solid #e5e7eb; border-radius: 6px; padding: 8px 10px; }
#article-view .article mark { scroll-margin: 60px; }
#filter-bar { background: #eff6ff; border-radius: 6px; padding: 4px 8px; align-items: center; }
#article-table td, #article-table th, #article-table span { font-family: var(--font); }
#examples button { white-space: normal; text-align: left; }
"""

# Runs once when the conversation is mounted. `[n]` links open and highlight their card; a card's
# button asks the server to open the article there (the HTML component's `click` event). The page
# re-renders the conversation on every answer: sources a reader folded stay folded.
CONVERSATION_JS = """
const folded = new Set();
element.addEventListener('toggle', (event) => {
  const turn = event.target.closest && event.target.closest('.turn');
  if (!turn || !event.target.matches('details.source-list')) return;
  if (event.target.open) folded.delete(turn.id); else folded.add(turn.id);
}, true);
watch('value', () => {
  if (!element.querySelector('.turn')) folded.clear();
  folded.forEach((id) => {
    const list = element.querySelector('#' + id + ' details.source-list');
    if (list) list.open = false;
  });
});
element.addEventListener('click', (event) => {
  const link = event.target.closest('a.cite');
  if (link) {
    event.preventDefault();
    const card = element.querySelector('#' + link.dataset.card);
    if (!card) return;
    const list = card.closest('details');
    if (list) list.open = true;
    element.querySelectorAll('.citation.hl').forEach((c) => c.classList.remove('hl'));
    card.classList.add('hl');
    card.scrollIntoView({block: 'center'});
    return;
  }
  const button = event.target.closest('button.open-article');
  if (button) {
    trigger('click', {source: button.dataset.source, start: Number(button.dataset.start),
                      end: Number(button.dataset.end)});
  }
});
"""

# After an answer: bring its question, the answer and the first source into view if they are not.
SHOW_LATEST_JS = """
() => {
  const turns = document.querySelectorAll('#chat .turn');
  const last = turns[turns.length - 1];
  if (!last) return;
  const card = last.querySelector('.citation, .refusal') || last;
  const top = last.getBoundingClientRect().top, bottom = card.getBoundingClientRect().bottom;
  if (top < 0 || bottom > window.innerHeight) last.scrollIntoView({block: 'start'});
}
"""

# After an article opens from a card: show it, scrolled to the marked passage.
SHOW_ARTICLE_JS = """
() => {
  setTimeout(() => {
    const view = document.querySelector('#article-view');
    if (!view) return;
    view.scrollIntoView({block: 'start'});
    const mark = view.querySelector('mark');
    const box = view.querySelector('.article-text');
    if (mark && box) box.scrollTop = mark.offsetTop - box.offsetTop - 40;
  }, 150);
}
"""

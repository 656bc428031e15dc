/**
 * A tiny document model for the emails: each section is written once and rendered to plain text
 * and to HTML. Every string is escaped when rendered to HTML, so alert-derived text (hostile
 * command lines, crafted process names) can never become markup.
 */

import { displayLines, displayText } from '../../common/display-text';

export type Block =
  | { kind: 'banner'; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'fields'; rows: [label: string, value: string | undefined][] }
  | { kind: 'list'; items: string[] }
  | { kind: 'code'; text: string }
  | { kind: 'link'; label: string; href: string };

export interface Section {
  title: string;
  blocks: Block[];
}

export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/**
 * One line, bounded: a subject header must not carry line breaks or a 30 KB command line. Hidden
 * characters (CR, LF, NUL, bidi overrides, …) are shown as escapes, so none reaches the header.
 */
export function subjectLine(value: string, max = 200): string {
  const single = displayText(value)
    .replace(/\s{2,}/g, ' ')
    .trim();
  return single.length > max ? `${single.slice(0, max - 1)}…` : single;
}

const isWebLink = (href: string) => /^https?:\/\//i.test(href);

/**
 * Every block's text is shown with hidden characters escaped (common/display-text.ts): a value
 * cannot break a line to plant one of its own, nor reorder what a reader sees. A code block keeps the
 * line breaks of text the project composed (commands to run); alert-derived command lines are
 * escaped whole before they get there.
 */
function shown(block: Block): Block {
  switch (block.kind) {
    case 'banner':
    case 'paragraph':
      return { ...block, text: displayText(block.text) };
    case 'fields':
      return {
        ...block,
        rows: block.rows.map(([label, value]) => [
          displayText(label),
          value === undefined ? value : displayText(value),
        ]),
      };
    case 'list':
      return { ...block, items: block.items.map(displayText) };
    case 'code':
      return { ...block, text: displayLines(block.text) };
    case 'link':
      return { ...block, label: displayText(block.label), href: displayText(block.href) };
  }
}

function blockText(raw: Block): string {
  const block = shown(raw);
  switch (block.kind) {
    case 'banner':
      return `*** ${block.text} ***`;
    case 'paragraph':
      return block.text;
    case 'fields': {
      const rows = block.rows.filter((row): row is [string, string] => Boolean(row[1]));
      const width = Math.max(0, ...rows.map(([label]) => label.length));
      return rows.map(([label, value]) => `${`${label}:`.padEnd(width + 2)}${value}`).join('\n');
    }
    case 'list':
      return block.items.map((item) => `  - ${item.replace(/\n/g, '\n    ')}`).join('\n');
    case 'code':
      return block.text
        .split('\n')
        .map((line) => `    ${line}`)
        .join('\n');
    case 'link':
      return `${block.label}: ${block.href}`;
  }
}

/** One section as plain text (heading, rule, blocks): the CLI's status shows the email's own sections. */
export function sectionText(section: Section): string {
  const heading = displayText(section.title);
  return [heading, '-'.repeat(Math.min(heading.length, 78)), section.blocks.map(blockText).join('\n\n')].join('\n');
}

export function renderText(rawTitle: string, sections: Section[], banner?: string): string {
  const title = displayText(rawTitle);
  const parts = [title, '='.repeat(Math.min(title.length, 78))];
  if (banner) parts.push('', blockText({ kind: 'banner', text: banner }));
  for (const section of sections) {
    const heading = displayText(section.title);
    parts.push('', heading, '-'.repeat(Math.min(heading.length, 78)));
    parts.push(section.blocks.map(blockText).join('\n\n'));
  }
  return `${parts.join('\n')}\n`;
}

const STYLE = {
  body: 'font-family:Segoe UI,Arial,sans-serif;font-size:14px;color:#1b1f23;max-width:900px',
  banner: 'background:#fff3cd;border:1px solid #e0a800;padding:8px 12px;font-weight:bold',
  th: 'text-align:left;vertical-align:top;padding:2px 12px 2px 0;color:#57606a;white-space:nowrap',
  td: 'vertical-align:top;padding:2px 0;word-break:break-all',
  code: 'background:#f6f8fa;border:1px solid #d0d7de;padding:8px;white-space:pre-wrap;word-break:break-all',
};

function blockHtml(raw: Block): string {
  const block = shown(raw);
  switch (block.kind) {
    case 'banner':
      return `<p style="${STYLE.banner}">${escapeHtml(block.text)}</p>`;
    case 'paragraph':
      return `<p>${escapeHtml(block.text)}</p>`;
    case 'fields': {
      const rows = block.rows
        .filter((row): row is [string, string] => Boolean(row[1]))
        .map(
          ([label, value]) =>
            `<tr><th style="${STYLE.th}">${escapeHtml(label)}</th><td style="${STYLE.td}">${escapeHtml(value)}</td></tr>`,
        );
      return `<table>${rows.join('')}</table>`;
    }
    case 'list':
      return `<ul>${block.items.map((item) => `<li>${escapeHtml(item).replace(/\n/g, '<br>')}</li>`).join('')}</ul>`;
    case 'code':
      return `<pre style="${STYLE.code}">${escapeHtml(block.text)}</pre>`;
    case 'link':
      return isWebLink(block.href)
        ? `<p>${escapeHtml(block.label)}: <a href="${escapeHtml(block.href)}">${escapeHtml(block.href)}</a></p>`
        : `<p>${escapeHtml(block.label)}: ${escapeHtml(block.href)}</p>`;
  }
}

/** One section as an HTML fragment: the review page shows the email's own sections. */
export function sectionHtml(section: Section): string {
  return `<h2>${escapeHtml(displayText(section.title))}</h2>\n${section.blocks.map(blockHtml).join('\n')}`;
}

export function renderHtml(title: string, sections: Section[], banner?: string): string {
  const body = sections
    .map((section) => `<h2>${escapeHtml(displayText(section.title))}</h2>\n${section.blocks.map(blockHtml).join('\n')}`)
    .join('\n');
  return [
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8"><title>' + escapeHtml(displayText(title)) + '</title></head>',
    `<body style="${STYLE.body}">`,
    `<h1>${escapeHtml(displayText(title))}</h1>`,
    ...(banner ? [blockHtml({ kind: 'banner', text: banner })] : []),
    body,
    '</body></html>',
    '',
  ].join('\n');
}

/** `banner` goes right under the title, above every section (the LAB warning). */
export function renderEmail(subject: string, title: string, sections: Section[], banner?: string): EmailContent {
  return {
    subject: subjectLine(subject),
    text: renderText(title, sections, banner),
    html: renderHtml(title, sections, banner),
  };
}

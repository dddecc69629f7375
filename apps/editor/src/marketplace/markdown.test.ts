import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { Markdown } from './Markdown';

const render = (source: string) => renderToStaticMarkup(createElement(Markdown, { source }));

/**
 * Issue 12: a template's docs come from any author. The renderer builds elements from the markdown
 * tree: raw HTML is dropped, unsafe link protocols are blanked, images are not fetched.
 */
describe('template docs markdown', () => {
  it('renders headings, tables and links (opened in a new tab, without the opener)', () => {
    const html = render('# Title\n\n| A | B |\n| - | - |\n| 1 | 2 |\n\n[site](https://example.com)');
    expect(html).toContain('<h1>Title</h1>');
    expect(html).toContain('<td>1</td>');
    expect(html).toContain('<a href="https://example.com" target="_blank" rel="noopener noreferrer nofollow">site</a>');
  });

  it('cannot run script: raw HTML, event handlers, javascript: and data: links, and images are neutralised', () => {
    const hostile = [
      '<script>alert(1)</script>',
      '<img src=x onerror=alert(1)>',
      '<iframe src="https://evil.test"></iframe>',
      '<a href="javascript:alert(1)">raw</a>',
      '[click](javascript:alert(1))',
      '[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
      '[upper](JaVaScRiPt:alert(1))',
      '![pic](https://tracker.test/pixel.png)',
      '<svg onload=alert(1)></svg>',
    ].join('\n\n');
    const html = render(hostile);
    expect(html).not.toMatch(/<script|<iframe|<svg|<img|onerror|onload|javascript:|data:text/i);
    // The links stay as text with an empty target; the image shows as its alt text.
    expect(html).toContain('>click</a>');
    expect(html).toContain('[image: pic]');
    expect(html).not.toContain('tracker.test');
  });
});

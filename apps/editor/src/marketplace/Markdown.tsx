import ReactMarkdown, { defaultUrlTransform } from 'react-markdown';
import remarkGfm from 'remark-gfm';

/**
 * A template's docs. react-markdown builds React elements from the markdown syntax tree and never
 * sets innerHTML; raw HTML in the source is dropped (`skipHtml`, and no rehype-raw), and link and
 * image URLs go through its default transform, which blanks `javascript:` and other unsafe
 * protocols. So docs from any author cannot run script here.
 */
export function Markdown({ source }: { source: string }) {
  return (
    <div className="mp-docs" data-testid="template-docs">
      <ReactMarkdown
        remarkPlugins={[remarkGfm]}
        skipHtml
        urlTransform={defaultUrlTransform}
        components={{
          a: ({ href, children }) => (
            <a href={href} target="_blank" rel="noopener noreferrer nofollow">
              {children}
            </a>
          ),
          img: ({ alt }) => <span className="muted">[image: {alt}]</span>,
        }}
      >
        {source}
      </ReactMarkdown>
    </div>
  );
}

import { hrefOf, linkHandler } from '../router';
import type { ApiClient, QueryOutput } from '../trpc';
import { FlowPreview } from './FlowPreview';
import { PermissionIcons } from './permissions';
import { Stars } from './Stars';

export type TemplateSummary = QueryOutput<ApiClient['templates']['search']>['items'][number];

export const CATEGORY_LABELS: Record<string, string> = {
  email: 'Email', sales: 'Sales', productivity: 'Productivity', scheduling: 'Scheduling', support: 'Support', other: 'Other',
};

/** A gallery card: a preview drawn from the first flow, name, category, stars, installs, permission icons. */
export function TemplateCard({ template }: { template: TemplateSummary }) {
  const href = hrefOf({ page: 'template', templateId: template.id });
  const first = template.previews[0];
  return (
    <li className="mp-card" data-testid="template-card" data-template-id={template.id}>
      <a className="mp-card__link" href={href} onClick={linkHandler(href)}>
        <div className="mp-card__preview">
          {first ? <FlowPreview flow={first} height={104} /> : <div className="mp-preview mp-preview--empty" style={{ height: 104 }}>Agent only</div>}
          {template.previews.length + template.agents.length > 1 ? (
            <span className="mp-card__parts">
              {[template.previews.length ? `${template.previews.length} flow${template.previews.length === 1 ? '' : 's'}` : null, template.agents.length ? `${template.agents.length} agent${template.agents.length === 1 ? '' : 's'}` : null].filter(Boolean).join(' · ')}
            </span>
          ) : null}
        </div>
        <div className="mp-card__body">
          <div className="mp-card__head">
            <span className="mp-card__name" data-testid="template-name">{template.name}</span>
            <span className="mp-category">{CATEGORY_LABELS[template.category] ?? template.category}</span>
          </div>
          <p className="mp-card__desc">{template.description}</p>
          <div className="mp-card__meta">
            <Stars average={template.rating.average} count={template.rating.count} />
            <span className="mp-installs" data-testid="install-count">{template.installs.toLocaleString()} install{template.installs === 1 ? '' : 's'}</span>
            <PermissionIcons permissions={template.permissions} />
          </div>
        </div>
      </a>
    </li>
  );
}

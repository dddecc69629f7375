import { CATEGORY_LABELS, NODE_KINDS, type NodeKindSpec } from '@switchyard/schema';
import { useMemo, useState } from 'react';
import { CATEGORY_ORDER } from './graph';
import { CategoryIcon } from './FlowNodeView';

export const DND_TYPE = 'application/x-switchyard-node';

/** Kinds a document of this kind can hold: a plan holds only plan steps, which belong to plans. */
const fitsKind = (type: string, docKind: string | undefined) => (docKind === 'plan') === (type === 'plan.step');

/** Node kinds grouped by category, filtered by a search over names and descriptions. */
export function Palette({ onAdd, kind }: { onAdd: (type: string) => void; kind?: string }) {
  const [search, setSearch] = useState('');
  const groups = useMemo(() => {
    const needle = search.trim().toLowerCase();
    const kinds = (NODE_KINDS as readonly NodeKindSpec[]).filter(
      (k) => fitsKind(k.type, kind) && (needle === '' || `${k.label} ${k.description} ${k.type}`.toLowerCase().includes(needle)),
    );
    return CATEGORY_ORDER.map((category) => ({ category, kinds: kinds.filter((k) => k.category === category) })).filter((g) => g.kinds.length > 0);
  }, [search, kind]);

  return (
    <aside className="palette" aria-label="Node palette" data-testid="palette">
      <div className="palette__search">
        <input
          className="input input--compact"
          type="search"
          placeholder="Search nodes"
          aria-label="Search nodes"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
      </div>
      <div className="palette__list">
        {groups.length === 0 ? <p className="palette__empty">No node matches “{search}”.</p> : null}
        {groups.map((group) => (
          <section key={group.category} className="palette__group">
            <h3 className="palette__heading">{CATEGORY_LABELS[group.category]}</h3>
            {group.kinds.map((kind) => (
              <div
                key={kind.type}
                className={`palette__item palette__item--${kind.category}`}
                draggable
                role="button"
                tabIndex={0}
                title={`${kind.description}\nClick to add, or drag onto the canvas.`}
                data-testid={`palette-${kind.type}`}
                onDragStart={(e) => {
                  e.dataTransfer.setData(DND_TYPE, kind.type);
                  e.dataTransfer.effectAllowed = 'move';
                }}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' || e.key === ' ') {
                    e.preventDefault();
                    onAdd(kind.type);
                  }
                }}
                // A drag that ends anywhere fires no click, so a click always means "add it".
                onClick={() => onAdd(kind.type)}
              >
                <CategoryIcon category={kind.category} />
                <span className="palette__text">
                  <span className="palette__label">{kind.label}</span>
                  <span className="palette__desc">{kind.description}</span>
                </span>
              </div>
            ))}
          </section>
        ))}
      </div>
    </aside>
  );
}

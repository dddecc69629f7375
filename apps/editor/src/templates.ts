import { FlowDocumentSchema, type FlowDocument } from '@switchyard/schema';

/**
 * The templates that ship in the repository's `templates/` folder, bundled into the editor so an
 * empty studio can start a flow from one offline ("Use template" copies the flow only). The
 * gallery with agents, variables, permissions, ratings and upgrades is the Templates page
 * (`templates.*` on the API, pages/MarketplacePage.tsx).
 */

export interface BundledTemplate {
  id: string;
  name: string;
  description: string;
  category: string;
  documents: FlowDocument[];
}

interface TemplateFile {
  id?: unknown;
  name?: unknown;
  description?: unknown;
  category?: unknown;
  documents?: unknown;
  agents?: unknown;
}

/**
 * Whether "Use template" can copy the file's flows as they are: not when the template creates
 * agents or its documents hold `@{...}` references to them or to variables, which only an install
 * from the Templates page binds.
 */
export const needsInstall = (file: TemplateFile): boolean =>
  (Array.isArray(file.agents) && file.agents.length > 0) || JSON.stringify(file.documents ?? null).includes('@{');

/**
 * A template file's listing, or null when it holds no valid flow (a broken file is left out, not
 * shown) or must be installed from the Templates page (agents, variables in its documents).
 */
export function templateFrom(file: TemplateFile): BundledTemplate | null {
  if (typeof file.id !== 'string' || typeof file.name !== 'string' || !Array.isArray(file.documents)) return null;
  if (needsInstall(file)) return null;
  const documents: FlowDocument[] = [];
  for (const raw of file.documents) {
    const parsed = FlowDocumentSchema.safeParse(raw);
    if (!parsed.success) return null;
    documents.push(parsed.data);
  }
  if (documents.length === 0) return null;
  return {
    id: file.id,
    name: file.name,
    description: typeof file.description === 'string' ? file.description : '',
    category: typeof file.category === 'string' ? file.category : '',
    documents,
  };
}

const files = import.meta.glob<TemplateFile>('../../../templates/*.json', { eager: true, import: 'default' });

export const BUNDLED_TEMPLATES: readonly BundledTemplate[] = Object.values(files)
  .map(templateFrom)
  .filter((t): t is BundledTemplate => t !== null)
  .sort((a, b) => a.name.localeCompare(b.name));

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
}

/** A template file's listing, or null when it holds no valid flow (a broken file is left out, not shown). */
export function templateFrom(file: TemplateFile): BundledTemplate | null {
  if (typeof file.id !== 'string' || typeof file.name !== 'string' || !Array.isArray(file.documents)) return null;
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

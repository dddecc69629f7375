export function editorBuildIsStale(): boolean;
export function ensureEditorBuilt(who: string): Promise<number>;

export declare function findChromium(): Promise<string | null>;
export declare const NO_CHROMIUM_MESSAGE: string;

// Types of bin/build-stamp.js (plain JavaScript: it runs before, and without, the build).
export declare const STAMP_FILE: string;
export declare function sourceFiles(root: string): string[];
export declare function sourceDigest(root: string, files?: string[]): string;
export declare function staleReason(root: string): string | undefined;

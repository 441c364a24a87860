export declare const PROJECT_ROOT: string
export declare const BUILT_CLI: string
export declare function cliBuildStaleBecause(root?: string): string | undefined

import * as fs from "fs";
import * as path from "path";
import { recipePaths, repoRoot } from "../recipe/paths";

/**
 * One OpenSSH public key line: type, base64 body, optional comment. Nothing else can reach the
 * kickstart: no newline (a second line would be a second key or a shell command), no quote.
 */
const PUBLIC_KEY_RE =
    /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( [\x21-\x7e][\x20-\x7e]*)?$/;

export function checkPublicKey(key: string, where: string): string {
    const line = key.trim();
    if (/PRIVATE KEY/.test(line)) throw new Error(`${where}: this is a private key; give the public key (.pub)`);
    if (!PUBLIC_KEY_RE.test(line) || /['"`\\$]/.test(line)) {
        throw new Error(`${where}: not a single OpenSSH public key line (type, base64, optional comment)`);
    }
    return line;
}

export function defaultBuildKeyFile(root: string = repoRoot): string {
    return path.join(recipePaths(root).keys, "packer.pub");
}

/**
 * The build key for virtual builds: the text given, else the file given, else keys/packer.pub.
 * Read only when a virtual build needs it, so metal kickstarts render without keys/.
 */
export function readBuildKey(opts: { sshPublicKey?: string; sshPublicKeyFile?: string; root?: string }): string {
    if (opts.sshPublicKey !== undefined) return checkPublicKey(opts.sshPublicKey, "sshPublicKey");
    const file = opts.sshPublicKeyFile ?? defaultBuildKeyFile(opts.root);
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") {
            throw new Error(`virtual builds need the build key: ${file} does not exist (run 'npm run keys', or pass --ssh-key PATH)`);
        }
        throw e;
    }
    return checkPublicKey(text, file);
}

/**
 * What a kickstart server says at start when it cannot serve virtual builds yet (no build key),
 * or undefined. The key is read at each request, so `npm run keys` later is enough; metal
 * builds need no build key and are served meanwhile.
 */
export function missingBuildKeyWarning(opts: { sshPublicKey?: string; sshPublicKeyFile?: string; root?: string }): string | undefined {
    if (opts.sshPublicKey !== undefined) return undefined;
    const file = opts.sshPublicKeyFile ?? defaultBuildKeyFile(opts.root);
    if (fs.existsSync(file)) return undefined;
    return `warning: ${file} does not exist: virtual builds answer 500 until it does (run npm run keys); metal builds are served`;
}

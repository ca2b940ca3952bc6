// Writes the private key of one PKCS12 keystore entry as a PKCS#8 PEM file: keytool makes
// keys and certificates but cannot export a private key, and the Deno client needs it as PEM.
// Usage: java ExportPrivateKey.java <keystore.p12> <password> <alias> <out.key>
import java.io.FileInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.Base64;

public class ExportPrivateKey {
  public static void main(String[] args) throws Exception {
    char[] password = args[1].toCharArray();
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (FileInputStream in = new FileInputStream(args[0])) {
      store.load(in, password);
    }
    byte[] pkcs8 = store.getKey(args[2], password).getEncoded();
    String body = Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(pkcs8);
    Files.writeString(
        Path.of(args[3]), "-----BEGIN PRIVATE KEY-----\n" + body + "\n-----END PRIVATE KEY-----\n");
  }
}

package ftlab.security;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The lab's certificate authority and the certificates it issues, as PEM files in one folder (the
 * layout {@link TlsFiles} reads): {@code ca.pem} and {@code ca.key} for the authority, {@code
 * NAME.pem} and {@code NAME.key} for each identity. Keys are EC P-256 (PKCS#8), certificates are
 * signed with SHA256withECDSA by Bouncy Castle's builder over the JDK's own crypto.
 *
 * <p>This is a <b>lab</b> authority: its key sits in the same folder, readable only by its owner
 * ({@code rw-------}), and certificates are not revoked by lists but by the coordinators ({@code
 * ftlab revoke}). Good for a workshop; a production cluster would keep the authority's key offline.
 */
public final class LabCertificates {

  private static final String SIGNATURE = "SHA256withECDSA";

  private final Path dir;
  private final X509Certificate caCertificate;
  private final PrivateKey caKey;
  private final SecureRandom random = new SecureRandom();

  private LabCertificates(Path dir, X509Certificate caCertificate, PrivateKey caKey) {
    this.dir = dir;
    this.caCertificate = caCertificate;
    this.caKey = caKey;
  }

  /**
   * The authority in a folder: the one already there ({@code ca.pem} + {@code ca.key}), or a new
   * one valid for {@code validity} if the folder has none.
   *
   * @return the authority, and whether it was made now
   */
  public static LabCertificates openOrCreate(Path dir, Duration validity) throws IOException {
    Files.createDirectories(dir);
    Path caPem = dir.resolve(TlsFiles.CA_CERTIFICATE);
    Path caKeyFile = dir.resolve(TlsFiles.CA_KEY);
    if (Files.exists(caPem) || Files.exists(caKeyFile)) {
      if (!Files.exists(caKeyFile)) {
        throw new IOException(
            dir
                + " has "
                + TlsFiles.CA_CERTIFICATE
                + " but not its key "
                + TlsFiles.CA_KEY
                + ": cannot issue certificates with it (use an empty folder for a new authority)");
      }
      X509Certificate ca = TlsFiles.readCertificate(caPem);
      return new LabCertificates(dir, ca, readKey(caKeyFile));
    }
    try {
      KeyPair keys = newKeys();
      Instant now = Instant.now();
      // a name of its own (two labs' authorities must not look alike in a sentence)
      X500Name name =
          new X500Name(
              "CN=ftlab lab authority "
                  + Long.toHexString(new SecureRandom().nextLong() >>> 32)
                  + ",O=ftlab");
      X509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
              name,
              serial(new SecureRandom()),
              Date.from(now.minus(Duration.ofMinutes(5))),
              Date.from(now.plus(validity)),
              name,
              keys.getPublic());
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      builder
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
          .addExtension(
              Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
          .addExtension(
              Extension.subjectKeyIdentifier,
              false,
              extensions.createSubjectKeyIdentifier(keys.getPublic()));
      X509Certificate ca = sign(builder, keys.getPrivate());
      writeKey(caKeyFile, keys.getPrivate());
      write(caPem, TlsFiles.pem("CERTIFICATE", ca.getEncoded()));
      return new LabCertificates(dir, ca, keys.getPrivate());
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IOException("could not make the lab's certificate authority: " + e.getMessage(), e);
    }
  }

  /** The authority's own certificate (what every process trusts). */
  public X509Certificate authority() {
    return caCertificate;
  }

  /**
   * Copies what the holder of an issued identity needs into a folder of its own: the authority's
   * certificate ({@code ca.pem}) and the identity's certificate and key, never the authority's key,
   * the layout {@link TlsFiles} reads. The folder may hold other identities' files (the CLI's
   * client and admin); the identity's files there are replaced.
   *
   * @return the folder
   */
  public Path copyInto(Identity identity, Path folder) throws IOException {
    if (folder.toAbsolutePath().normalize().equals(dir.toAbsolutePath().normalize())) {
      throw new IOException(folder + " is the authority's own folder");
    }
    Files.createDirectories(folder);
    try {
      Files.setPosixFilePermissions(folder, PosixFilePermissions.fromString("rwx------"));
    } catch (UnsupportedOperationException e) {
      // not POSIX
    }
    for (String file :
        List.of(TlsFiles.CA_CERTIFICATE, identity.name() + ".pem", identity.name() + ".key")) {
      Files.copy(
          dir.resolve(file),
          folder.resolve(file),
          StandardCopyOption.REPLACE_EXISTING,
          StandardCopyOption.COPY_ATTRIBUTES);
    }
    return folder;
  }

  /** The file a name's certificate is in: {@code NAME.pem}. */
  public Path certificateFile(String name) {
    return dir.resolve(name + ".pem");
  }

  /**
   * Issues a certificate for an identity, valid for {@code validity}, into {@code NAME.pem} and
   * {@code NAME.key} (a new key each time). A name's files that hold another identity (a node
   * called "admin") are not overwritten.
   */
  public X509Certificate issue(Identity identity, Duration validity) throws IOException {
    if (identity.name().equals("ca")) {
      throw new IOException("'ca' is the authority's own file name: choose another name");
    }
    Path pem = certificateFile(identity.name());
    if (Files.exists(pem)) {
      Optional<Identity> there = Identity.of(TlsFiles.readCertificate(pem));
      if (there.isPresent() && !there.get().equals(identity)) {
        throw new IOException(
            pem
                + " already holds the certificate of "
                + there.get()
                + ", not of "
                + identity
                + ": names must be unique across roles");
      }
    }
    try {
      KeyPair keys = newKeys();
      Instant now = Instant.now();
      X500Name issuer = X500Name.getInstance(caCertificate.getSubjectX500Principal().getEncoded());
      X509v3CertificateBuilder builder =
          new JcaX509v3CertificateBuilder(
              issuer,
              serial(random),
              Date.from(now.minus(Duration.ofMinutes(5))),
              Date.from(min(now.plus(validity), caCertificate.getNotAfter().toInstant())),
              new X500Name("CN=" + identity.name() + ",OU=" + identity.role().word() + ",O=ftlab"),
              keys.getPublic());
      JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
      builder
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
          // every ftlab process is a TLS server to some and a TLS client to others
          .addExtension(
              Extension.extendedKeyUsage,
              false,
              new ExtendedKeyUsage(
                  new KeyPurposeId[] {
                    KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth
                  }))
          .addExtension(
              Extension.subjectAlternativeName,
              false,
              new GeneralNames(
                  new GeneralName(
                      GeneralName.uniformResourceIdentifier, identity.uri().toString())))
          .addExtension(
              Extension.subjectKeyIdentifier,
              false,
              extensions.createSubjectKeyIdentifier(keys.getPublic()))
          .addExtension(
              Extension.authorityKeyIdentifier,
              false,
              extensions.createAuthorityKeyIdentifier(caCertificate));
      X509Certificate certificate = sign(builder, caKey);
      writeKey(dir.resolve(identity.name() + ".key"), keys.getPrivate());
      write(pem, TlsFiles.pem("CERTIFICATE", certificate.getEncoded()));
      return certificate;
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IOException(
          "could not issue a certificate for " + identity + ": " + e.getMessage(), e);
    }
  }

  private static Instant min(Instant a, Instant b) {
    return a.isBefore(b) ? a : b;
  }

  private static KeyPair newKeys() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    return generator.generateKeyPair();
  }

  private static BigInteger serial(SecureRandom random) {
    return new BigInteger(64, random).add(BigInteger.ONE); // positive, as RFC 5280 asks
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key)
      throws OperatorCreationException, GeneralSecurityException {
    ContentSigner signer = new JcaContentSignerBuilder(SIGNATURE).build(key);
    return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
  }

  private static PrivateKey readKey(Path file) throws IOException {
    try {
      byte[] der =
          TlsFiles.pemBody(Files.readString(file, StandardCharsets.US_ASCII), "PRIVATE KEY");
      return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      throw new IOException(file + " is not an EC private key in PKCS#8 PEM: " + e.getMessage(), e);
    }
  }

  /** A key file, readable by its owner only (where the file system has POSIX permissions). */
  private static void writeKey(Path file, PrivateKey key) throws IOException {
    write(file, TlsFiles.pem("PRIVATE KEY", key.getEncoded()), "rw-------");
  }

  private static void write(Path file, String text) throws IOException {
    write(file, text, "rw-r--r--");
  }

  /**
   * Writes through a temporary file and a move, so a reader never sees half a file, with these
   * permissions where the file system has POSIX ones (elsewhere the folder's own apply).
   */
  private static void write(Path file, String text, String permissions) throws IOException {
    Path temporary = Files.createTempFile(file.getParent(), ".", ".tmp");
    Files.writeString(temporary, text, StandardCharsets.US_ASCII);
    try {
      Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString(permissions));
    } catch (UnsupportedOperationException e) {
      // not POSIX (Windows)
    }
    Files.move(
        temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}

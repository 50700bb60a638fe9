package ftlab.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.junit.jupiter.api.Test;

/** What a certificate's names make of a peer: one ftlab identity, or none. */
class IdentityTest {

  @Test
  void aUriNamesAnIdentityOnlyInTheExactShapeWithAKnownRoleAndAValidName() {
    assertThat(Identity.fromUri("spiffe://ftlab/node/node-3"))
        .contains(new Identity(Role.NODE, "node-3"));
    assertThat(Identity.fromUri("spiffe://ftlab/admin/alice.b_2"))
        .contains(new Identity(Role.ADMIN, "alice.b_2"));
    for (String notOne :
        new String[] {
          null,
          "",
          "spiffe://ftlab/",
          "spiffe://ftlab/node",
          "spiffe://ftlab/node/",
          "spiffe://ftlab/node/node-3/extra",
          "spiffe://ftlab/doctor/node-3", // no such role
          "spiffe://other/node/node-3", // another trust domain
          "SPIFFE://ftlab/node/node-3",
          "spiffe://ftlab/node/../admin",
          "spiffe://ftlab/node/-node",
          "spiffe://ftlab/node/node 3",
          "spiffe://ftlab/node/" + "n".repeat(129),
          "https://ftlab/node/node-3"
        }) {
      assertThat(Identity.fromUri(notOne)).as(String.valueOf(notOne)).isEmpty();
    }
    assertThat(new Identity(Role.NODE, "node-3").uri().toString())
        .isEqualTo("spiffe://ftlab/node/node-3");
    assertThatThrownBy(() -> new Identity(Role.NODE, "a/b"))
        .hasMessageContaining("'a/b' is not a valid name");
  }

  @Test
  void aCertificateNamesItsOneFtlabIdentityAndOtherNamesBesideItDoNotMatter() throws Exception {
    assertThat(
            Identity.of(
                certificate(
                    new GeneralName(GeneralName.dNSName, "node-3.example"),
                    uri("spiffe://ftlab/node/node-3"),
                    uri("https://example.org/"))))
        .contains(new Identity(Role.NODE, "node-3"));
  }

  @Test
  void aCertificateWithTwoIdentitiesOrNoneNamesNobody() throws Exception {
    // two: which would it be? Neither: a certificate that is both a node and an admin is no one
    assertThat(
            Identity.of(
                certificate(uri("spiffe://ftlab/node/node-3"), uri("spiffe://ftlab/admin/x"))))
        .isEmpty();
    assertThat(Identity.of(certificate(new GeneralName(GeneralName.dNSName, "node-3")))).isEmpty();
    assertThat(Identity.of(certificate(uri("spiffe://ftlab/node/../admin")))).isEmpty();
    assertThat(Identity.of(certificate())).isEmpty(); // no subject alternative names at all
  }

  private static GeneralName uri(String u) {
    return new GeneralName(GeneralName.uniformResourceIdentifier, u);
  }

  /** A self-signed certificate with these subject alternative names (none: no extension). */
  private static X509Certificate certificate(GeneralName... names) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(256);
    KeyPair keys = g.generateKeyPair();
    X500Name subject = new X500Name("CN=test");
    Instant now = Instant.now();
    JcaX509v3CertificateBuilder b =
        new JcaX509v3CertificateBuilder(
            subject,
            BigInteger.ONE,
            Date.from(now),
            Date.from(now.plus(Duration.ofHours(1))),
            subject,
            keys.getPublic());
    if (names.length > 0) {
      b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
    }
    return new JcaX509CertificateConverter()
        .getCertificate(
            b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keys.getPrivate())));
  }
}

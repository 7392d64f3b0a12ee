import ServerCore
import Testing
@testable import DNSService

/// The keys file as BIND's tsig-keygen and NSD write it, and its errors by file and line.
@Suite struct TSIGKeyFileTests {
    @Test func bindAndNSDFormsWithComments() throws {
        let text = """
        # made by tsig-keygen
        key "xfr.example." {
            algorithm hmac-sha256;   // the default
            secret "c2VjcmV0";
        };
        /* a second key,
           over two lines */
        key other { algorithm HMAC-SHA512; secret "AAECAw=="; };
        """
        let keys = try TSIGKeyFile.parse(text, path: "keys.conf")
        #expect(keys.count == 2)
        #expect(keys[DNSName("XFR.example.")!] == TSIGKey(name: DNSName("xfr.example.")!, algorithm: .sha256, secret: Array("secret".utf8)))
        #expect(keys[DNSName("other.")!]?.secret == [0, 1, 2, 3])
        #expect(keys[DNSName("other.")!]?.algorithm == .sha512)
    }

    @Test(arguments: [
        ("zone \"x\" {};", "k:1: expected 'key \"name\" { algorithm ...; secret \"...\"; };', got 'zone'"),
        ("key \"a\" {\n algorithm hmac-md5;\n secret \"AA==\"; };", "k:2: expected hmac-sha1, hmac-sha256 or hmac-sha512, got 'hmac-md5'"),
        ("key \"a\" {\n algorithm hmac-sha256;\n secret \"not base64!\"; };", "k:3: the secret is not base64"),
        ("key \"a\" { algorithm hmac-sha256; };", "k:1: the key a. needs both an algorithm and a secret"),
        ("key \"a\" { algorithm hmac-sha256; secret \"AA==\" };", "k:1: expected ';', got '}'"),
        ("key \"a\" { algorithm hmac-sha256; secret \"AA==\"; }", "k:1: expected ';', got the end of the file"),
        ("key \"a\" {\n secret \"AA==\"; algorithm hmac-sha256; };\nkey \"A.\" { secret \"AA==\"; algorithm hmac-sha1; };",
         "k:3: the key A. is defined twice"),
        ("key \"a\" { owner x; };", "k:1: expected 'algorithm', 'secret' or '}', got 'owner'"),
        ("key \"a\n", "k:1: a quoted string is not closed"),
        ("/* open", "k:1: a comment is not closed"),
    ])
    func errorsNameTheLine(_ text: String, _ expected: String) {
        #expect(throws: TSIGKeyFile.Failure(description: expected)) { try TSIGKeyFile.parse(text, path: "k") }
    }

    @Test func base64() {
        #expect(Base64.decode("c2VjcmV0") == Array("secret".utf8))
        #expect(Base64.decode("YQ==") == [0x61])
        #expect(Base64.decode("YQ") == [0x61])
        #expect(Base64.decode("YR==") == nil)
        #expect(Base64.decode("Y=Q=") == nil)
        #expect(Base64.decode("Y") == nil)
        #expect(Base64.decode("") == [])
    }
}

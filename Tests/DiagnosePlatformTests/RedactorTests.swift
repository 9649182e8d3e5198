import DiagnosePlatform
import DiagnoseTestSupport
import Foundation
import Testing

@Suite struct RedactorTests {
    @Test(arguments: [
        ("redis://:s3cr3t@redis:6379/0", "redis://:***@redis:6379/0"),
        ("redis://alice:s3cr3t@redis:6379/0", "redis://alice:***@redis:6379/0"),
        ("redis://:p@ss@redis:6379/0", "redis://:***@redis:6379/0"),
        ("$ redis-cli -a hunter22 ping", "$ redis-cli -a *** ping"),
        ("GEMINI_API_KEY=abc123", "GEMINI_API_KEY=***"),
        ("  GEMINI_API_KEY: abc123", "  GEMINI_API_KEY: ***"),
        (#""DB_PASSWORD": "pw1234""#, #""DB_PASSWORD": "***""#),
        ("redis-server --requirepass pw1234", "redis-server --requirepass ***"),
        ("Authorization: Bearer tok123", "Authorization: Bearer ***"),
        ("Missing env vars: ['GEMINI_API_KEY']", "Missing env vars: ['GEMINI_API_KEY']"),
        ("http://backend:8000/health", "http://backend:8000/health"),
    ])
    func rulesHideSecretShapes(_ input: String, _ expected: String) {
        #expect(Redactor.standard.redact(input) == expected)
    }

    @Test func knownValuesAreHiddenAnywhere() {
        var redactor = Redactor.standard
        redactor.learn(from: [
            "GEMINI_API_KEY": "lab-fake-key", "APP_ENV": "docker", "REDIS_URL": "redis://:pw999@r:6379",
        ])
        #expect(redactor.redact("the key lab-fake-key leaked") == "the key *** leaked")
        #expect(redactor.redact("env docker") == "env docker")
        #expect(redactor.redact("auth pw999 failed") == "auth *** failed")
    }

    @Test func aPasswordHoldingAnAtSignIsFoundWhole() {
        #expect(Redactor.urlPassword("redis://:p@ss@redis:6379/0") == "p@ss")
        #expect(Redactor.urlPassword("http://backend:8000/a@b") == nil)
    }

    @Test func secretNamesAreRecognised() {
        for name in ["GEMINI_API_KEY", "api_key", "GITHUB_TOKEN", "CLIENT_SECRET", "DB_PASSWORD", "REDIS_PASS"] {
            #expect(Redactor.isSecretName(name), "\(name)")
        }
        for name in ["REDIS_URL", "APP_ENV", "BACKEND_URL", "GEMINI_MODEL"] {
            #expect(!Redactor.isSecretName(name), "\(name)")
        }
    }

    /// `Fixtures/secret-shapes.tsv`: each line a text as observed output may hold it, a tab, the secret in it.
    static func secretShapes() throws -> [(text: String, secret: String)] {
        let file = fixturesFolder().appendingPathComponent("secret-shapes.tsv")
        return try String(contentsOf: file, encoding: .utf8).split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#") else { return nil }
            let fields = line.split(separator: "\t", maxSplits: 1)
            guard fields.count == 2 else { throw TestFailure("secret-shapes.tsv: no tab in '\(line)'") }
            return (String(fields[0]), String(fields[1]))
        }
    }

    @Test func theCorpusHoldsAtLeastFortyShapes() throws {
        #expect(try Self.secretShapes().count >= 40)
    }

    @Test func noSecretOfTheCorpusSurvivesTheRules() throws {
        for shape in try Self.secretShapes() {
            let redacted = Redactor.standard.redact(shape.text)
            #expect(!redacted.contains(shape.secret), "\(shape.text) -> \(redacted)")
            #expect(redacted.contains(Redactor.mask), "\(shape.text)")
        }
    }

    @Test func aPercentEncodedURLPasswordIsHiddenInBothForms() {
        var redactor = Redactor.standard
        redactor.learn(from: ["BROKER_URL": "amqp://guest:p%40ss%2Fw0rd@rabbit:5672/"])
        #expect(redactor.redact("AUTH failed for p@ss/w0rd") == "AUTH failed for ***")
        #expect(!redactor.redact("amqp://guest:p%40ss%2Fw0rd@rabbit:5672/").contains("p%40ss"))
    }

    @Test func widerSecretNamesAreRecognisedAndPWDIsNot() {
        for name in ["MYSQL_ROOT_PWD", "GPG_PASSPHRASE", "SENTRY_DSN", "GITLAB_PAT", "NPM_AUTH", "GOOGLE_CREDENTIALS"] {
            #expect(Redactor.isSecretName(name), "\(name)")
        }
        for name in ["PWD", "PATH", "OAUTH_REDIRECT_URL", "COMPAT_MODE"] {
            #expect(!Redactor.isSecretName(name), "\(name)")
        }
        #expect(Redactor.standard.redact("PWD=/srv/lab PATH=/usr/bin") == "PWD=/srv/lab PATH=/usr/bin")
    }
}

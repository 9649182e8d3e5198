import DiagnosePlatform
import DiagnoseTestSupport
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
}

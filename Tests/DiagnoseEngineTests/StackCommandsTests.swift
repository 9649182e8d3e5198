import DiagnoseCompose
import DiagnoseRunbook
import DiagnoseTestSupport
import Foundation
import Testing

/// The shipped runbooks' next commands, as printed on a Swarm stack: compose commands become the docker commands
/// that do the same for the stack's services.
@Suite struct StackCommandsTests {
    @Test(arguments: [
        ("docker compose logs --tail 100 worker", "docker service logs --tail 100 lab_worker"),
        ("docker compose logs -f worker", "docker service logs -f lab_worker"),
        ("docker compose ps backend", "docker service ps --no-trunc lab_backend"),
        ("docker compose ps", "docker stack ps --no-trunc lab"),
        (
            "docker compose exec redis redis-cli ping",
            "docker exec $(docker ps -q --filter label=com.docker.swarm.service.name=lab_redis | head -n 1) redis-cli ping"
        ),
        (
            "docker rm -f $(docker compose ps -aq worker)",
            "docker rm -f $(docker ps -aq --filter label=com.docker.swarm.service.name=lab_worker)"
        ),
        (
            "docker compose unpause redis",
            "docker unpause $(docker ps -q --filter label=com.docker.swarm.service.name=lab_redis)"
        ),
        ("docker compose restart prometheus", "docker service update --force lab_prometheus"),
        ("docker compose start backend", "docker service update --force lab_backend"),
        ("docker compose port backend 8000", "docker service inspect --format '{{json .Endpoint.Ports}}' lab_backend"),
        (
            "Give both services the same REDIS_URL (in .env), then: docker compose up -d backend worker",
            "Give both services the same REDIS_URL (in .env), then: docker stack deploy -c docker-compose.yml lab"
        ),
        ("docker compose up -d --force-recreate frontend", "docker stack deploy -c docker-compose.yml lab"),
        (
            "docker compose config | grep -n BACKEND_URL",
            "docker stack config -c docker-compose.yml | grep -n BACKEND_URL"
        ),
        ("docker service scale STACK_worker=1", "docker service scale lab_worker=1"),
        ("curl -s http://localhost:8050/ready", "curl -s http://localhost:8050/ready"),
    ])
    func aComposeCommandBecomesTheStacksCommand(_ compose: String, _ swarm: String) {
        #expect(StackCommands.translate(compose, stack: "lab") == swarm)
    }

    @Test func aStackNameThatNeedsQuotingIsQuoted() {
        #expect(StackCommands.translate("docker compose ps", stack: "a b") == "docker stack ps --no-trunc 'a b'")
        #expect(
            StackCommands.translate("docker compose logs worker", stack: "a;b") == "docker service logs 'a;b_worker'")
    }

    @Test func noShippedFixIsLeftAsAComposeCommandOnAStack() throws {
        let catalog = RunbookCatalog.load([packageRoot.appendingPathComponent("runbooks").path])
        #expect(catalog.isValid)
        var left: [String] = []
        var count = 0
        for runbook in catalog.runbooks {
            for diagnosis in runbook.diagnoses {
                for fix in diagnosis.fix {
                    count += 1
                    let translated = StackCommands.translate(fix.command, stack: "diagnose-lab")
                    // `docker compose build` still builds the images from the file; nothing else of compose
                    // acts on a stack, and no STACK_ placeholder may be left.
                    let stray = translated.replacingOccurrences(of: "docker compose build", with: "")
                    if stray.contains("docker compose") || stray.contains("docker-compose ") || stray.contains("STACK_")
                    {
                        left.append("\(runbook.id)/\(diagnosis.id): \(translated)")
                    }
                }
            }
        }
        #expect(count > 100)
        #expect(left.isEmpty, "\(left.joined(separator: "\n"))")
    }
}

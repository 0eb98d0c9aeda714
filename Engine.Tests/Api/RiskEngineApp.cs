namespace Engine.Tests.Api;

/// <summary>
/// The test engine with the risk controls as an operator would configure them: circuit breakers on
/// (a move of more than 4% within 60 s pauses a symbol for 30 s; a degraded index pauses it) and a
/// 10% price band that rejects. Tests of one class share it: each test uses its own symbol, so one
/// test's breaker does not pause another's.
/// </summary>
public sealed class RiskEngineApp() : EngineApp(Settings)
{
    public static readonly IReadOnlyDictionary<string, string?> Settings = new Dictionary<string, string?>
    {
        ["Engine:CircuitBreaker:Enabled"] = "true",
        ["Engine:CircuitBreaker:MaxMove"] = "0.04",
        ["Engine:CircuitBreaker:WindowSeconds"] = "60",
        ["Engine:CircuitBreaker:PauseSeconds"] = "30",
        ["Engine:CircuitBreaker:HaltOnDegraded"] = "true",
        ["Engine:PriceBand:Fraction"] = "0.1",
        ["Engine:PriceBand:Policy"] = "reject",
    };
}

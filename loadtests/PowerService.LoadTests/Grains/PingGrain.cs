using PowerService.Runtime;

namespace PowerService.LoadTests.Grains;

public interface IPingGrain : IGrain
{
    Task<int> Ping(int x);
}

/// <summary>Stateless and field-free, so a call measures the runtime and an idle activation weighs only what the
/// runtime keeps for it.</summary>
internal sealed class PingGrain : Grain, IPingGrain
{
    public Task<int> Ping(int x) => Task.FromResult(x + 1);
}

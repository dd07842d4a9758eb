using PowerService.Api.Tests.Support;

namespace PowerService.Api.Tests;

/// <summary>The hubs over real Kestrel and a real WebSocket, the way the browser client connects.</summary>
public sealed class HubTests : IAsyncLifetime
{
    private readonly ApiFactory _api = new();
    private Uri _server = null!;

    public Task InitializeAsync()
    {
        _server = _api.StartKestrel();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task An_operator_on_the_monitor_hub_receives_runtime_statistics_every_second()
    {
        await using var monitor = await SignalRConnection.ConnectAsync(new Uri(_server, "/hubs/monitor"), await _api.TokenForAsync("operator-zhao"));

        var first = await monitor.NextInvocationAsync("stats", TimeSpan.FromSeconds(5));
        var second = await monitor.NextInvocationAsync("stats", TimeSpan.FromSeconds(5));

        Assert.Equal("sqlite", first[0].GetProperty("store").GetString());
        Assert.True(second[0].GetProperty("activations").GetInt32() >= 0);
    }

    [Fact]
    public async Task Hubs_refuse_connections_without_a_token_with_401_and_with_the_wrong_role_with_403()
    {
        var customerToken = await _api.TokenForAsync("customer-wang");

        Assert.Equal(401, await SignalRConnection.RefusedStatusAsync(new Uri(_server, "/hubs/monitor"), null));
        Assert.Equal(403, await SignalRConnection.RefusedStatusAsync(new Uri(_server, "/hubs/monitor"), customerToken));
        Assert.Equal(403, await SignalRConnection.RefusedStatusAsync(new Uri(_server, "/hubs/dispatch"), customerToken));
        Assert.Equal(403, await SignalRConnection.RefusedStatusAsync(new Uri(_server, "/hubs/crew"), customerToken));
    }
}

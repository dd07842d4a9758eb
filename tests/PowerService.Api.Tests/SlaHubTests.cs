using System.Net;
using System.Net.Http.Json;
using PowerService.Api.Tests.Support;
using PowerService.TestSupport;

namespace PowerService.Api.Tests;

/// <summary>SLA warnings reach the dispatchers of the order's region over a real WebSocket; the silo runs on a manual
/// clock so the promised arrival time can be let run short.</summary>
public sealed class SlaHubTests : IAsyncLifetime
{
    private readonly ManualTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private readonly ApiFactory _api;
    private Uri _server = null!;

    public SlaHubTests() => _api = new ApiFactory().WithSiloClock(_clock);

    public Task InitializeAsync()
    {
        _server = _api.StartKestrel();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task A_dispatcher_watching_the_region_hears_when_an_orders_arrival_is_about_to_be_late()
    {
        await using var console = await SignalRConnection.ConnectAsync(new Uri(_server, "/hubs/dispatch"), await _api.TokenForAsync("dispatcher-li"));
        await console.InvokeAsync("Watch", "R1");
        var dispatcher = await _api.ClientForAsync("dispatcher-li");
        var created = await dispatcher.PostAsJsonAsync("/api/work-orders", new
        {
            id = "WO-SLA-1", kind = "FaultRepair", description = "Line down on Binhai Road", region = "R1",
            location = new { latitude = 20.0, longitude = 110.3 },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var arrival = (await ApiScenario.JsonAsync(created)).GetProperty("slaClocks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "Arrival");

        _clock.Advance(arrival.GetProperty("warnAt").GetDateTimeOffset() - _clock.GetUtcNow() + TimeSpan.FromSeconds(1));

        var alert = (await console.NextInvocationAsync("sla", TimeSpan.FromSeconds(10)))[0][0];
        Assert.Equal(("WO-SLA-1", "SlaWarned", "Arrival", "R1"),
            (alert.GetProperty("orderId").GetString(), alert.GetProperty("alert").GetString(), alert.GetProperty("clock").GetString(), alert.GetProperty("region").GetString()));
        Assert.Equal(arrival.GetProperty("dueAt").GetDateTimeOffset(), alert.GetProperty("dueAt").GetDateTimeOffset());
    }
}

using System.Net;
using System.Net.Http.Json;
using PowerService.Api.Tests.Support;
using PowerService.TestSupport;

namespace PowerService.Api.Tests;

/// <summary>SLA warnings, and booked visits their crew leaves unanswered or turns down, reach the dispatchers of the
/// order's region over a real WebSocket; the silo runs on a manual clock so the promised times can be let run short.</summary>
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
        await ApiScenario.ServeRegionsAsync(dispatcher, "R1");
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

    /// <summary>A clock still running at 150 % of its limit escalates to the region supervisor; that was only journaled,
    /// and no page told anyone. It reaches the region's dispatchers as an alert naming the level; the grid manager's
    /// escalation, which comes with the breach, is not told twice.</summary>
    [Fact]
    public async Task A_dispatcher_watching_the_region_hears_when_an_order_is_escalated_to_the_region_supervisor()
    {
        await using var console = await SignalRConnection.ConnectAsync(new Uri(_server, "/hubs/dispatch"), await _api.TokenForAsync("dispatcher-li"));
        await console.InvokeAsync("Watch", "R1");
        var dispatcher = await _api.ClientForAsync("dispatcher-li");
        await ApiScenario.ServeRegionsAsync(dispatcher, "R1");
        var created = await dispatcher.PostAsJsonAsync("/api/work-orders", new
        {
            id = "WO-SLA-ESC", kind = "FaultRepair", description = "Line down on Binhai Road", region = "R1",
            location = new { latitude = 20.0, longitude = 110.3 },
        });
        var arrival = (await ApiScenario.JsonAsync(created)).GetProperty("slaClocks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "Arrival");
        var limit = arrival.GetProperty("dueAt").GetDateTimeOffset() - _clock.GetUtcNow();

        _clock.Advance(limit * 1.5 + TimeSpan.FromSeconds(1));

        var told = new List<(string Alert, string? Level)>();
        while (!told.Contains(("Escalated", "RegionSupervisor")))
        {
            foreach (var alert in (await console.NextInvocationAsync("sla", TimeSpan.FromSeconds(10)))[0].EnumerateArray())
            {
                told.Add((alert.GetProperty("alert").GetString()!, alert.TryGetProperty("level", out var level) && level.ValueKind == System.Text.Json.JsonValueKind.String ? level.GetString() : null));
            }
        }
        Assert.Contains(("SlaBreached", (string?)null), told);
        Assert.DoesNotContain(told, t => t.Alert == "Escalated" && t.Level != "RegionSupervisor");
    }

    /// <summary>A booked visit's offer does not lapse (that cancelled the customer's appointment without a word): a
    /// dispatcher hears when the booked crew has not accepted it in the accept time, and when it rejects it.</summary>
    [Fact]
    public async Task A_dispatcher_watching_the_region_hears_when_a_booked_visit_goes_unanswered_and_when_its_crew_rejects_it()
    {
        await using var console = await SignalRConnection.ConnectAsync(new Uri(_server, "/hubs/dispatch"), await _api.TokenForAsync("dispatcher-li"));
        await console.InvokeAsync("Watch", "R1");
        var dispatcher = await _api.ClientForAsync("dispatcher-li");
        await ApiScenario.RegisterCrewAsync(dispatcher, "C-12", skills: ["Metering"], offShiftUntilTomorrow: true);
        var now = _clock.GetUtcNow();
        var slot = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero).AddHours(2);
        Assert.Equal(HttpStatusCode.OK, (await dispatcher.PostAsJsonAsync("/api/crews/C-12/slots", new { slots = new[] { new { start = slot, end = slot.AddHours(1), capacity = 1 } } })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await dispatcher.PostAsJsonAsync("/api/work-orders", new
        {
            id = "WO-V1", kind = "MeterInstallation", description = "Install the new meter", region = "R1",
            location = new { latitude = 20.0, longitude = 110.3 },
        })).StatusCode);
        var booking = (await ApiScenario.JsonAsync(await dispatcher.PostAsJsonAsync("/api/bookings", new { orderId = "WO-V1", crewId = "C-12", slotStart = slot }))).GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.OK, (await dispatcher.PostAsync($"/api/bookings/{booking}/confirm", null)).StatusCode);

        _clock.Advance(slot - TimeSpan.FromMinutes(30) - _clock.GetUtcNow());
        await Eventually.True(
            async () => (await ApiScenario.JsonAsync(await dispatcher.GetAsync("/api/work-orders/WO-V1"))).GetProperty("state").GetString() == "Dispatched",
            "the booked crew is offered the visit");
        _clock.Advance(TimeSpan.FromMinutes(5));
        var unanswered = (await console.NextInvocationAsync("sla", TimeSpan.FromSeconds(10)))[0][0];
        var crew = await _api.ClientForAsync("crew-c12");
        Assert.Equal(HttpStatusCode.OK, (await crew.PostAsJsonAsync("/api/work-orders/WO-V1/transitions", new { action = "reject", note = "no meter in the van" })).StatusCode);
        var calledOff = (await console.NextInvocationAsync("sla", TimeSpan.FromSeconds(10)))[0][0];

        Assert.Equal(("WO-V1", "VisitUnanswered", "C-12", "R1"),
            (unanswered.GetProperty("orderId").GetString(), unanswered.GetProperty("alert").GetString(), unanswered.GetProperty("crewId").GetString(), unanswered.GetProperty("region").GetString()));
        Assert.Equal(slot, unanswered.GetProperty("dueAt").GetDateTimeOffset());
        Assert.Equal(("WO-V1", "VisitCalledOff", "C-12"),
            (calledOff.GetProperty("orderId").GetString(), calledOff.GetProperty("alert").GetString(), calledOff.GetProperty("crewId").GetString()));
        Assert.Equal(slot, calledOff.GetProperty("dueAt").GetDateTimeOffset());
        var order = await ApiScenario.JsonAsync(await dispatcher.GetAsync("/api/work-orders/WO-V1"));
        Assert.True(order.GetProperty("visit").GetProperty("calledOff").GetBoolean());
    }
}

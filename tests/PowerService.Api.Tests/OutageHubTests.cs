using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using PowerService.Api.Tests.Support;
using static PowerService.Api.Tests.Support.ApiScenario;

namespace PowerService.Api.Tests;

/// <summary>Outages live over real Kestrel and real WebSockets: the dispatcher watching the region sees an outage the
/// moment the head-end's last gasps open it, and only the customers it cuts hear of it.</summary>
public sealed class OutageHubTests : IAsyncLifetime
{
    // Plans are noticed a minute ahead here (7 days by default), so one can be scheduled and started on the real clock.
    private readonly ApiFactory _api = new ApiFactory().With("Workflow:PlannedOutages:PlannedNotice", "00:01:00");
    private Uri _server = null!;
    private HttpClient _dispatcher = null!;
    private HttpClient _headEnd = null!;

    public async Task InitializeAsync()
    {
        _server = _api.StartKestrel();
        _dispatcher = await _api.ClientForAsync("dispatcher-li");
        _headEnd = await _api.ClientForAsync("headend-1");
        await ImportTwoAreasAsync(_dispatcher);
    }

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task Last_gasps_reach_the_dispatcher_watching_the_region_as_the_outage_with_its_affected_customers()
    {
        await using var console = await ConnectAsync("/hubs/dispatch", "dispatcher-li");
        await console.InvokeAsync("Watch", "R1");

        Assert.Equal(HttpStatusCode.OK, (await _headEnd.PostAsJsonAsync("/api/meter-events", LastGasps(1, 10))).StatusCode);

        var outage = await NextOutageAsync(console, "outages", o => o.GetProperty("transformerAreaIds")[0].GetString() == "TA-1");
        Assert.Equal(("R1", 1, "Unplanned"), (outage.GetProperty("region").GetString(), outage.GetProperty("affectedCustomers").GetInt32(), outage.GetProperty("kind").GetString()));
        Assert.True(outage.GetProperty("state").GetString() is "Suspected" or "Confirmed", $"An open outage, not {outage.GetProperty("state")}.");
    }

    [Fact]
    public async Task The_customer_an_outage_cuts_hears_of_it_its_ETR_and_its_end_and_a_customer_elsewhere_hears_nothing_of_it()
    {
        await using var wang = await ConnectAsync("/hubs/customer", "customer-wang"); // on TA-1
        await using var li = await ConnectAsync("/hubs/customer", "customer-li"); // on TA-2

        await _headEnd.PostAsJsonAsync("/api/meter-events", LastGasps(1, 10));

        var opened = await NextOutageAsync(wang, "outage", _ => true);
        var id = opened.GetProperty("id").GetString()!;
        var etr = DateTimeOffset.UtcNow.AddHours(3);
        var set = await _dispatcher.PostAsJsonAsync($"/api/outages/{id}/etr", new { estimatedRestorationAt = etr, cause = "typhoon: tree on the line" });
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        var told = await NextOutageAsync(wang, "outage", o => o.GetProperty("estimatedRestorationAt").ValueKind != JsonValueKind.Null);
        Assert.Equal((id, "typhoon: tree on the line"), (told.GetProperty("id").GetString(), told.GetProperty("cause").GetString()));
        Assert.Equal(etr, told.GetProperty("estimatedRestorationAt").GetDateTimeOffset(), TimeSpan.FromMilliseconds(1));
        Assert.False(told.TryGetProperty("importantCustomers", out _), "A customer is not told who else is out.");
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsync($"/api/outages/{id}/restore", null)).StatusCode);
        var restored = await NextOutageAsync(wang, "outage", o => o.GetProperty("state").GetString() == "Restored");
        Assert.Equal(id, restored.GetProperty("id").GetString());

        // TA-2 goes dark after all that: the first notice customer-li gets is of its own outage, so none of TA-1's came.
        await _headEnd.PostAsJsonAsync("/api/meter-events", LastGasps(11, 11));
        var own = (await li.NextInvocationAsync("outage", TimeSpan.FromSeconds(10)))[0];
        Assert.NotEqual(id, own.GetProperty("id").GetString());
        var seen = await JsonAsync(await _dispatcher.GetAsync($"/api/outages/{own.GetProperty("id").GetString()}"));
        Assert.Equal("TA-2", seen.GetProperty("transformerAreaIds")[0].GetString());
    }

    [Fact]
    public async Task Every_dispatcher_sees_the_planned_outage_calendar_change_live_whatever_region_they_watch()
    {
        await using var console = await ConnectAsync("/hubs/dispatch", "dispatcher-li");
        await console.InvokeAsync("Watch", "R9"); // not the feeder's region: the calendar is every dispatcher's

        var planned = await _dispatcher.PostAsJsonAsync("/api/planned-outages", PlannedOutage("PO-LIVE", DateTimeOffset.UtcNow.AddMinutes(2)));
        Assert.Equal(HttpStatusCode.Created, planned.StatusCode);
        var scheduled = await NextOutageAsync(console, "plannedOutages", p => p.GetProperty("id").GetString() == "PO-LIVE");
        Assert.Equal(("Scheduled", "F-1", 1), (scheduled.GetProperty("status").GetString(), scheduled.GetProperty("feederId").GetString(), scheduled.GetProperty("affectedCustomers").GetInt32()));

        var at = DateTimeOffset.UtcNow; // the switch opened two minutes before the noticed start
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync("/api/planned-outages/PO-LIVE/start", new { at })).StatusCode);
        var started = await NextOutageAsync(console, "plannedOutages", p => p.GetProperty("status").GetString() == "InProgress");
        Assert.Equal("PO-LIVE", started.GetProperty("id").GetString());
        Assert.Equal(at, started.GetProperty("actualStart").GetDateTimeOffset(), TimeSpan.FromMilliseconds(1));
        Assert.True(started.GetProperty("version").GetInt32() > scheduled.GetProperty("version").GetInt32());
    }

    [Fact]
    public async Task A_customer_hears_of_planned_work_on_their_supply_and_of_its_calling_off_and_a_customer_elsewhere_does_not()
    {
        await using var wang = await ConnectAsync("/hubs/customer", "customer-wang"); // on TA-1, feeder F-1
        await using var li = await ConnectAsync("/hubs/customer", "customer-li"); // on TA-2, feeder F-2

        Assert.Equal(HttpStatusCode.Created, (await _dispatcher.PostAsJsonAsync("/api/planned-outages", PlannedOutage("PO-NOTICE", DateTimeOffset.UtcNow.AddDays(8)))).StatusCode);
        var told = (await wang.NextInvocationAsync("plannedOutage", TimeSpan.FromSeconds(10)))[0];
        Assert.Equal(("PO-NOTICE", "Scheduled", "Replace the 10 kV switch"), (told.GetProperty("id").GetString(), told.GetProperty("status").GetString(), told.GetProperty("reason").GetString()));
        Assert.False(told.TryGetProperty("affectedCustomers", out _), "A customer is not told who else is cut.");

        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync("/api/planned-outages/PO-NOTICE/cancel", new { reason = "weather" })).StatusCode);
        var calledOff = (await wang.NextInvocationAsync("plannedOutage", TimeSpan.FromSeconds(10)))[0];
        Assert.Equal(("PO-NOTICE", "Cancelled"), (calledOff.GetProperty("id").GetString(), calledOff.GetProperty("status").GetString()));

        // TA-2's own plan after all that: the first plan customer-li hears of is its own, so none of F-1's came.
        var own = new { id = "PO-TA2", kind = "Temporary", transformerAreaIds = new[] { "TA-2" }, plannedStart = DateTimeOffset.UtcNow.AddDays(2), plannedEnd = DateTimeOffset.UtcNow.AddDays(2).AddHours(2), reason = "Move the transformer" };
        Assert.Equal(HttpStatusCode.Created, (await _dispatcher.PostAsJsonAsync("/api/planned-outages", own)).StatusCode);
        Assert.Equal("PO-TA2", (await li.NextInvocationAsync("plannedOutage", TimeSpan.FromSeconds(10)))[0].GetProperty("id").GetString());
    }

    private async Task<SignalRConnection> ConnectAsync(string hub, string user)
    {
        var connection = await SignalRConnection.ConnectAsync(new Uri(_server, hub), await _api.TokenForAsync(user));
        await connection.SettledAsync();
        return connection;
    }

    /// <summary>Reads <paramref name="target"/> messages (a list for "outages", one notice for "outage") until one
    /// outage matches.</summary>
    private static async Task<JsonElement> NextOutageAsync(SignalRConnection connection, string target, Func<JsonElement, bool> matches)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var argument = (await connection.NextInvocationAsync(target, deadline - DateTime.UtcNow))[0];
            foreach (var outage in argument.ValueKind == JsonValueKind.Array ? [.. argument.EnumerateArray()] : new[] { argument })
            {
                if (matches(outage))
                {
                    return outage;
                }
            }
        }
    }
}

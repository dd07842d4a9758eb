using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using PowerService.Api.Tests.Support;

namespace PowerService.Api.Tests;

/// <summary><c>GET /api/work-orders</c>: a region's open orders from its index, most urgent first, page by page, and
/// only the caller's own orders for a crew or a customer.</summary>
public sealed class WorkOrderListTests : IAsyncLifetime
{
    private readonly ApiFactory _api = new();
    private HttpClient _dispatcher = null!;

    public async Task InitializeAsync() => _dispatcher = await _api.ClientForAsync("dispatcher-li");

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task A_regions_open_orders_come_most_urgent_first_page_by_page_and_finished_ones_only_when_asked()
    {
        await ApiScenario.ServeRegionsAsync(_dispatcher, "R1", "R2");
        // Complaints have a day to contact the customer, repairs 45 minutes to arrive: the repairs come first.
        foreach (var (id, kind, region) in new[] { ("WO-C1", "Complaint", "R1"), ("WO-F1", "FaultRepair", "R1"), ("WO-F2", "FaultRepair", "R1"), ("WO-F3", "FaultRepair", "R1"), ("WO-X1", "FaultRepair", "R2") })
        {
            Assert.Equal(HttpStatusCode.Created, (await _dispatcher.PostAsJsonAsync("/api/work-orders", Order(id, kind, region))).StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-F2/transitions", new { action = "cancel" })).StatusCode);

        var first = await ListAsync("/api/work-orders?region=R1&limit=2");
        Assert.Equal(["WO-F1", "WO-F3"], Ids(first));
        Assert.Equal(3, first.GetProperty("total").GetInt32());
        var token = first.GetProperty("continuationToken").GetString();
        var second = await ListAsync($"/api/work-orders?region=R1&limit=2&continuationToken={token}");
        Assert.Equal(["WO-C1"], Ids(second));
        Assert.Equal(JsonValueKind.Null, second.GetProperty("continuationToken").ValueKind);

        Assert.Equal(["WO-C1"], Ids(await ListAsync("/api/work-orders?region=R1&kind=complaint")));
        Assert.Equal(["WO-F2"], Ids(await ListAsync("/api/work-orders?region=R1&state=Cancelled")));
        Assert.Equal(["WO-X1"], Ids(await ListAsync("/api/work-orders?region=R2")));
        var row = (await ListAsync("/api/work-orders?region=R1&limit=1")).GetProperty("items")[0];
        Assert.Equal("Arrival", row.GetProperty("due").GetProperty("clock").GetString());
        Assert.Equal("Created", row.GetProperty("state").GetString());
        // The console turns a row amber when the silo warns, not by a wall-clock share of its own.
        var order = await ApiScenario.JsonAsync(await _dispatcher.GetAsync($"/api/work-orders/{row.GetProperty("id").GetString()}"));
        var clock = order.GetProperty("slaClocks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "Arrival");
        Assert.Equal(clock.GetProperty("warnAt").GetDateTimeOffset(), row.GetProperty("due").GetProperty("warnAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task An_order_on_a_customer_hold_says_since_when_in_the_order_and_its_list_row_and_counts_down_again_when_resumed()
    {
        await ApiScenario.ServeRegionsAsync(_dispatcher, "RH");
        Assert.Equal(HttpStatusCode.Created, (await _dispatcher.PostAsJsonAsync("/api/work-orders", Order("WO-H1", "FaultRepair", "RH"))).StatusCode);

        var held = await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-H1/transitions", new { action = "suspend", note = "customer not at home until 15:00" });
        var order = await ApiScenario.JsonAsync(held);
        var row = (await ListAsync("/api/work-orders?region=RH")).GetProperty("items")[0];
        var resumed = await ApiScenario.JsonAsync(await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-H1/transitions", new { action = "resume" }));
        var rowAfter = (await ListAsync("/api/work-orders?region=RH")).GetProperty("items")[0];

        Assert.Equal(HttpStatusCode.OK, held.StatusCode);
        Assert.Equal(JsonValueKind.String, order.GetProperty("suspendedAt").ValueKind);
        Assert.Equal("Paused", order.GetProperty("slaClocks")[0].GetProperty("state").GetString());
        Assert.Equal(order.GetProperty("suspendedAt").GetDateTimeOffset(), row.GetProperty("suspendedAt").GetDateTimeOffset());
        Assert.Equal(JsonValueKind.Null, row.GetProperty("due").ValueKind);
        Assert.Equal(JsonValueKind.Null, resumed.GetProperty("suspendedAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, rowAfter.GetProperty("suspendedAt").ValueKind);
        Assert.Equal("Arrival", rowAfter.GetProperty("due").GetProperty("clock").GetString());
    }

    [Theory]
    [InlineData("region=R1&state=Flying", "state")]
    [InlineData("region=R1&kind=Picnic", "kind")]
    [InlineData("region=R1&limit=0", "limit")]
    [InlineData("region=R1&limit=1001", "limit")]
    [InlineData("region=R1&limit=ten", "limit")]
    [InlineData("region=R1&continuationToken=not-a-token", "continuationToken")]
    [InlineData("state=Created", "region")]
    public async Task A_bad_filter_is_a_400_naming_it(string query, string field)
    {
        var response = await _dispatcher.GetAsync($"/api/work-orders?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, (await ApiScenario.JsonAsync(response)).GetProperty("field").GetString());
    }

    [Fact]
    public async Task A_crew_lists_only_the_orders_it_holds_and_a_customer_only_their_own()
    {
        await ApiScenario.ImportCustomerAsync(_dispatcher);
        await ApiScenario.RegisterCrewAsync(_dispatcher, "C-12", latitude: 20.001);
        await ApiScenario.RegisterCrewAsync(_dispatcher, "C-77", latitude: 20.4);
        var customer = await _api.ClientForAsync("customer-wang");
        var crew = await _api.ClientForAsync("crew-c12");
        var reported = await customer.PostAsJsonAsync("/api/work-orders", new { kind = "FaultRepair", description = "No power at home" });
        Assert.Equal(HttpStatusCode.Created, reported.StatusCode);
        var own = (await reported.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.Created, (await _dispatcher.PostAsJsonAsync("/api/work-orders", Order("WO-OTHER", "FaultRepair", "R1"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-OTHER/assign", new { crewId = "C-77" })).StatusCode);

        Assert.Equal(new[] { "WO-OTHER", own }.Order(StringComparer.Ordinal), Ids(await ListAsync("/api/work-orders?region=R1")).Order(StringComparer.Ordinal));
        Assert.Equal([own], Ids(await ListAsync("/api/work-orders", customer)));
        Assert.Equal([own], Ids(await ListAsync("/api/work-orders?region=R1", crew))); // dispatched to the nearest, C-12
        Assert.Empty(Ids(await ListAsync("/api/work-orders?state=Accepted", crew)));
        Assert.Equal(HttpStatusCode.Unauthorized, (await _api.CreateClient().GetAsync("/api/work-orders?region=R1")).StatusCode);
    }

    /// <summary>"Your requests" after a busy day: the region's list keeps only its last 500 finished orders, which a
    /// storm's merged calls push out within minutes; a customer's own finished requests are still listed for them.</summary>
    [Fact]
    public async Task A_customer_still_lists_their_finished_requests_after_the_region_has_finished_hundreds_of_others()
    {
        await ApiScenario.ImportCustomerAsync(_dispatcher);
        var customer = await _api.ClientForAsync("customer-wang");
        var first = await ReportAsync(customer, "No power at home");
        var again = await ReportAsync(customer, "Still no power, please hurry");
        Assert.Equal("Merged", again.GetProperty("state").GetString()); // the same fault, folded into the first report
        var firstId = first.GetProperty("id").GetString()!;
        var againId = again.GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync($"/api/work-orders/{firstId}/transitions", new { action = "cancel", note = "power came back" })).StatusCode);
        for (var i = 0; i < 510; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await _dispatcher.PostAsJsonAsync("/api/work-orders", Order($"WO-BUSY-{i}", "Complaint", "R1"))).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync($"/api/work-orders/WO-BUSY-{i}/transitions", new { action = "cancel", note = "withdrawn" })).StatusCode);
        }
        // The region's finished tail has moved on past both...
        Assert.DoesNotContain(firstId, Ids(await ListAsync("/api/work-orders?region=R1&state=Cancelled&limit=1000")));

        // ...and the customer still sees each of them, in the state it finished in, and no one else's.
        var cancelled = await ListAsync("/api/work-orders?state=Cancelled", customer);
        Assert.Equal([firstId], Ids(cancelled));
        Assert.Equal("Cancelled", cancelled.GetProperty("items")[0].GetProperty("state").GetString());
        Assert.Equal([againId], Ids(await ListAsync("/api/work-orders?state=Merged", customer)));
        Assert.Empty(Ids(await ListAsync("/api/work-orders", customer))); // nothing open
        Assert.Equal(HttpStatusCode.OK, (await customer.GetAsync($"/api/work-orders/{againId}")).StatusCode);
    }

    private static async Task<JsonElement> ReportAsync(HttpClient customer, string description)
    {
        var reported = await customer.PostAsJsonAsync("/api/work-orders", new { kind = "FaultRepair", description });
        Assert.Equal(HttpStatusCode.Created, reported.StatusCode);
        return await ApiScenario.JsonAsync(reported);
    }

    /// <summary>What the crew PDA loads when it opens: every order the crew holds, page by page, whatever state it is
    /// in, and nothing of another crew's, which is not even there to be asked for by id.</summary>
    [Fact]
    public async Task A_crew_pages_through_every_order_it_holds_and_another_crews_orders_are_404()
    {
        await ApiScenario.RegisterCrewAsync(_dispatcher, "C-12");
        await ApiScenario.RegisterCrewAsync(_dispatcher, "C-77");
        var crew = await _api.ClientForAsync("crew-c12");
        foreach (var (id, holder) in new[] { ("WO-A", "C-12"), ("WO-B", "C-12"), ("WO-C", "C-12"), ("WO-D", "C-77") })
        {
            // A meter installation: no crew has the skill, so only the dispatcher's forced assignment gives it a crew.
            Assert.Equal(HttpStatusCode.Created, (await _dispatcher.PostAsJsonAsync("/api/work-orders", Order(id, "MeterInstallation", "R1"))).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync($"/api/work-orders/{id}/assign", new { crewId = holder, force = true })).StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await crew.PostAsJsonAsync("/api/work-orders/WO-B/transitions", new { action = "accept" })).StatusCode);

        var first = await ListAsync("/api/work-orders?limit=2", crew);
        Assert.Equal(3, first.GetProperty("total").GetInt32());
        var second = await ListAsync($"/api/work-orders?limit=2&continuationToken={first.GetProperty("continuationToken").GetString()}", crew);
        Assert.Equal(JsonValueKind.Null, second.GetProperty("continuationToken").ValueKind);
        Assert.Equal(["WO-A", "WO-B", "WO-C"], Ids(first).Concat(Ids(second)).Order(StringComparer.Ordinal));
        Assert.Equal(["WO-B"], Ids(await ListAsync("/api/work-orders?state=Accepted", crew)));
        Assert.Equal(HttpStatusCode.BadRequest, (await crew.GetAsync("/api/work-orders?limit=0")).StatusCode);

        // Another crew's order does not exist for this crew: not listed, not readable, not actionable.
        Assert.Equal(HttpStatusCode.NotFound, (await crew.GetAsync("/api/work-orders/WO-D")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await crew.PostAsJsonAsync("/api/work-orders/WO-D/transitions", new { action = "accept" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await crew.GetAsync("/api/crews/C-77")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await crew.PostAsJsonAsync("/api/work-orders/WO-A/assign", new { crewId = "C-12" })).StatusCode);

        // Reassigned away: it leaves the crew's list at once.
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-A/assign", new { crewId = "C-77", force = true })).StatusCode);
        Assert.Equal(["WO-B", "WO-C"], Ids(await ListAsync("/api/work-orders", crew)).Order(StringComparer.Ordinal));
        Assert.Equal(HttpStatusCode.NotFound, (await crew.GetAsync("/api/work-orders/WO-A")).StatusCode);
    }

    private async Task<JsonElement> ListAsync(string path, HttpClient? client = null)
    {
        var response = await (client ?? _dispatcher).GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await ApiScenario.JsonAsync(response);
    }

    private static string[] Ids(JsonElement page) => [.. page.GetProperty("items").EnumerateArray().Select(o => o.GetProperty("id").GetString()!)];

    private static object Order(string id, string kind, string region) => new
    {
        id,
        kind,
        description = "Reported by phone",
        region,
        areaClass = "Urban",
        location = new { latitude = 20.0, longitude = 110.3 },
    };
}

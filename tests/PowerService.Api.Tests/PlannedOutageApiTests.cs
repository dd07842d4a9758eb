using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using PowerService.Api.Tests.Support;
using PowerService.TestSupport;

namespace PowerService.Api.Tests;

/// <summary>Planned outages over HTTP as the dispatch console plans them: dry run, accept, refusal by policy, close-out.
/// The silo runs on a test clock that the tests move to the day of the works (a plan starts from half an hour before
/// the start its customers were told).</summary>
public sealed class PlannedOutageApiTests : IAsyncLifetime
{
    private readonly ManualTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private readonly ApiFactory _api;
    private HttpClient _dispatcher = null!;

    public PlannedOutageApiTests() => _api = new ApiFactory().WithSiloClock(_clock);

    public async Task InitializeAsync()
    {
        _dispatcher = await _api.ClientForAsync("dispatcher-li");
        await ApiScenario.ImportCustomerAsync(_dispatcher);
    }

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task A_dry_run_answers_the_impact_then_the_accepted_plan_is_started_and_closed_out()
    {
        var start = _clock.GetUtcNow().AddDays(8);

        var dry = await _dispatcher.PostAsJsonAsync("/api/planned-outages", Plan("PO-1", start, dryRun: true));

        Assert.Equal(HttpStatusCode.OK, dry.StatusCode);
        var impact = (await Json(dry)).GetProperty("impact");
        Assert.Equal(1, impact.GetProperty("affectedCustomers").GetInt32());
        Assert.Equal(["TA-1"], impact.GetProperty("transformerAreaIds").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal(HttpStatusCode.NotFound, (await _dispatcher.GetAsync("/api/planned-outages/PO-1")).StatusCode);

        var accepted = await _dispatcher.PostAsJsonAsync("/api/planned-outages", Plan("PO-1", start));

        Assert.Equal(HttpStatusCode.Created, accepted.StatusCode);
        Assert.Equal("/api/planned-outages/PO-1", accepted.Headers.Location?.OriginalString);
        Assert.Equal("Scheduled", (await Json(await _dispatcher.GetAsync("/api/planned-outages/PO-1"))).GetProperty("status").GetString());
        _clock.Advance(start.AddHours(2) - _clock.GetUtcNow()); // recorded two hours after the works began
        var started = await _dispatcher.PostAsJsonAsync("/api/planned-outages/PO-1/start", new { at = start });
        Assert.Equal("InProgress", (await Json(started)).GetProperty("status").GetString());
        var completed = await Json(await _dispatcher.PostAsJsonAsync("/api/planned-outages/PO-1/complete", new { at = start.AddHours(1) }));
        Assert.Equal("Completed", completed.GetProperty("status").GetString());
        Assert.Equal(60, completed.GetProperty("closeOut").GetProperty("actualMinutes").GetDouble());
        Assert.False(completed.GetProperty("closeOut").GetProperty("overran").GetBoolean());

        var again = await _dispatcher.PostAsJsonAsync("/api/planned-outages/PO-1/complete", new { });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        // Who planned, started and closed it out, and when: the plan's history.
        var history = (await Json(await _dispatcher.GetAsync("/api/planned-outages/PO-1/history"))).EnumerateArray().ToList();
        Assert.All(history, e => Assert.Equal("dispatcher:dispatcher-li", e.GetProperty("actor").GetString()));
        Assert.Contains(history, e => e.GetProperty("type").GetString() == "Started");
        Assert.Equal(HttpStatusCode.NotFound, (await _dispatcher.GetAsync("/api/planned-outages/PO-NONE/history")).StatusCode);
    }

    [Fact]
    public async Task A_started_planned_outage_is_on_the_outage_list_for_the_console_and_its_customer_until_it_is_closed_out()
    {
        var start = _clock.GetUtcNow().AddDays(8);
        Assert.Equal(HttpStatusCode.Created, (await _dispatcher.PostAsJsonAsync("/api/planned-outages", Plan("PO-1", start))).StatusCode);
        var customer = await _api.ClientForAsync("customer-wang");
        Assert.Equal(0, (await Json(await _dispatcher.GetAsync("/api/outages?active=true&region=R1"))).GetProperty("total").GetInt32());

        // The day of the works: supply is cut when the switch opens.
        _clock.Advance(start - _clock.GetUtcNow());
        var started = await Json(await _dispatcher.PostAsJsonAsync("/api/planned-outages/PO-1/start", new { }));

        Assert.Equal("OUT-P-PO-1", started.GetProperty("outageId").GetString());
        var row = Assert.Single((await Json(await _dispatcher.GetAsync("/api/outages?active=true&region=R1"))).GetProperty("items").EnumerateArray());
        Assert.Equal(("OUT-P-PO-1", "Planned", "Confirmed", 1), (row.GetProperty("id").GetString(), row.GetProperty("kind").GetString(), row.GetProperty("state").GetString(), row.GetProperty("affectedCustomers").GetInt32()));
        Assert.Equal(start.AddHours(4), row.GetProperty("estimatedRestorationAt").GetDateTimeOffset());
        Assert.Equal("OUT-P-PO-1", Assert.Single((await Json(await customer.GetAsync("/api/outages"))).GetProperty("items").EnumerateArray()).GetProperty("id").GetString());

        _clock.Advance(TimeSpan.FromHours(3));
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync("/api/planned-outages/PO-1/complete", new { })).StatusCode);

        Assert.Equal(0, (await Json(await _dispatcher.GetAsync("/api/outages?active=true&region=R1"))).GetProperty("total").GetInt32());
        Assert.Equal("Restored", (await Json(await _dispatcher.GetAsync("/api/outages/OUT-P-PO-1"))).GetProperty("state").GetString());
    }

    [Fact]
    public async Task The_planned_outages_of_a_feeder_are_listed_for_the_dispatcher_and_a_bad_query_is_a_400()
    {
        var start = _clock.GetUtcNow().AddDays(8);
        Assert.Equal(HttpStatusCode.Created, (await _dispatcher.PostAsJsonAsync("/api/planned-outages", Plan("PO-L", start))).StatusCode);
        // Work named by one of F-1's transformer areas is work on F-1 too.
        var byArea = new { id = "PO-TA", kind = "Planned", transformerAreaIds = new[] { "TA-1" }, plannedStart = start.AddDays(1), plannedEnd = start.AddDays(1).AddHours(2), reason = "Replace the transformer's fuses" };
        Assert.Equal(HttpStatusCode.Created, (await _dispatcher.PostAsJsonAsync("/api/planned-outages", byArea)).StatusCode);

        var list = await Json(await _dispatcher.GetAsync("/api/planned-outages?feederId=F-1"));

        Assert.Equal(2, list.GetProperty("total").GetInt32());
        var item = list.GetProperty("items")[0];
        Assert.Equal(("PO-L", "Scheduled", 1), (item.GetProperty("id").GetString(), item.GetProperty("status").GetString(), item.GetProperty("affectedCustomers").GetInt32()));
        Assert.Equal("PO-TA", list.GetProperty("items")[1].GetProperty("id").GetString());
        Assert.Equal(0, (await Json(await _dispatcher.GetAsync("/api/planned-outages?status=finished"))).GetProperty("total").GetInt32());
        Assert.Equal(0, (await Json(await _dispatcher.GetAsync("/api/planned-outages?feederId=F-404"))).GetProperty("total").GetInt32());
        var bad = await _dispatcher.GetAsync("/api/planned-outages?status=someday");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("status", (await Json(bad)).GetProperty("field").GetString());
        Assert.Equal("from", (await Json(await _dispatcher.GetAsync("/api/planned-outages?from=tomorrow"))).GetProperty("field").GetString());
        var crew = await _api.ClientForAsync("crew-c12");
        Assert.Equal(HttpStatusCode.Forbidden, (await crew.GetAsync("/api/planned-outages")).StatusCode);
    }

    [Fact]
    public async Task A_start_recorded_from_long_ago_is_a_400_naming_at_and_the_plan_stays_scheduled()
    {
        var start = _clock.GetUtcNow().AddDays(8);
        Assert.Equal(HttpStatusCode.Created, (await _dispatcher.PostAsJsonAsync("/api/planned-outages", Plan("PO-Z", start))).StatusCode);

        // A PDA's zero date: counted as an outage since year 1 it made SAIDI half a billion minutes.
        var response = await _dispatcher.PostAsJsonAsync("/api/planned-outages/PO-Z/start", new { at = DateTimeOffset.MinValue });
        var eightDaysAgo = await _dispatcher.PostAsJsonAsync("/api/planned-outages/PO-Z/start", new { at = _clock.GetUtcNow().AddDays(-8) });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("at", (await Json(response)).GetProperty("field").GetString());
        Assert.Contains("more than 7 days ago", (await Json(response)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, eightDaysAgo.StatusCode);
        Assert.Equal("Scheduled", (await Json(await _dispatcher.GetAsync("/api/planned-outages/PO-Z"))).GetProperty("status").GetString());
        var future = await _dispatcher.PostAsJsonAsync("/api/planned-outages/PO-Z/start", new { at = _clock.GetUtcNow().AddHours(3) });
        Assert.Equal("at", (await Json(future)).GetProperty("field").GetString());
    }

    [Fact]
    public async Task A_plan_started_before_the_day_its_customers_were_told_is_a_409_and_stays_scheduled()
    {
        var start = _clock.GetUtcNow().AddDays(8);
        Assert.Equal(HttpStatusCode.Created, (await _dispatcher.PostAsJsonAsync("/api/planned-outages", Plan("PO-E", start))).StatusCode);

        var weekEarly = await _dispatcher.PostAsJsonAsync("/api/planned-outages/PO-E/start", new { });

        Assert.Equal(HttpStatusCode.Conflict, weekEarly.StatusCode);
        Assert.Contains("was noticed to its customers for", (await Json(weekEarly)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        var plan = await Json(await _dispatcher.GetAsync("/api/planned-outages/PO-E"));
        Assert.Equal(("Scheduled", JsonValueKind.Null), (plan.GetProperty("status").GetString(), plan.TryGetProperty("outageId", out var outage) ? outage.ValueKind : JsonValueKind.Null));
        Assert.Equal(0, (await Json(await _dispatcher.GetAsync("/api/outages?active=true&region=R1"))).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task A_plan_sent_again_with_its_request_id_is_answered_with_the_same_plan_instead_of_scheduling_a_second()
    {
        var start = _clock.GetUtcNow().AddDays(8);
        var plan = new { kind = "Planned", feederId = "F-1", plannedStart = start, plannedEnd = start.AddHours(4), reason = "Replace the 10 kV switch", requestId = "3c9e1f2a-6b7d-4e8f-9a0b-1c2d3e4f5a6b" };

        var first = await _dispatcher.PostAsJsonAsync("/api/planned-outages", plan);
        var again = await _dispatcher.PostAsJsonAsync("/api/planned-outages", plan);
        var another = await _dispatcher.PostAsJsonAsync("/api/planned-outages", plan with { requestId = "9f8e7d6c-5b4a-4321-8fed-cba987654321" });

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        var id = (await Json(first)).GetProperty("outage").GetProperty("id").GetString();
        Assert.StartsWith("PO-", id, StringComparison.Ordinal);
        Assert.Equal(id, (await Json(again)).GetProperty("outage").GetProperty("id").GetString());
        Assert.Equal(1, (await Json(again)).GetProperty("impact").GetProperty("affectedCustomers").GetInt32());
        // Another request is another plan (the policy warns of the overlap, it does not refuse it).
        Assert.Equal(HttpStatusCode.Created, another.StatusCode);
        Assert.NotEqual(id, (await Json(another)).GetProperty("outage").GetProperty("id").GetString());
        Assert.Equal(2, (await Json(await _dispatcher.GetAsync("/api/planned-outages?feederId=F-1"))).GetProperty("total").GetInt32());

        // Another plan under the first one's request id was a 201 with the first plan, and the planning system took its
        // plan as scheduled: now a 409 saying the id is taken, and nothing is scheduled.
        var reused = await _dispatcher.PostAsJsonAsync("/api/planned-outages", plan with { plannedStart = start.AddDays(2), plannedEnd = start.AddDays(2).AddHours(1), reason = "other work" });
        Assert.Equal(HttpStatusCode.Conflict, reused.StatusCode);
        Assert.Contains("with other content", (await Json(reused)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, (await Json(await _dispatcher.GetAsync("/api/planned-outages?feederId=F-1"))).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task A_plan_with_too_little_notice_is_a_409_carrying_the_reason_and_the_impact()
    {
        var response = await _dispatcher.PostAsJsonAsync("/api/planned-outages", Plan("PO-1", _clock.GetUtcNow().AddDays(2)));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await Json(response);
        Assert.Equal("NoticeLeadTime", problem.GetProperty("refusals")[0].GetProperty("rule").GetString());
        Assert.Contains("7 days", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, problem.GetProperty("impact").GetProperty("affectedCustomers").GetInt32());
        Assert.Equal(HttpStatusCode.NotFound, (await _dispatcher.GetAsync("/api/planned-outages/PO-1")).StatusCode);
    }

    [Fact]
    public async Task A_customer_already_cut_twice_refuses_a_third_planned_outage()
    {
        // Two separate interruptions, eight days apart, each worked on its day.
        foreach (var id in new[] { "PO-A", "PO-B" })
        {
            Assert.Equal(HttpStatusCode.Created, (await _dispatcher.PostAsJsonAsync("/api/planned-outages", Plan(id, _clock.GetUtcNow().AddDays(8)))).StatusCode);
            _clock.Advance(TimeSpan.FromDays(8));
            Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync($"/api/planned-outages/{id}/start", new { })).StatusCode);
            _clock.Advance(TimeSpan.FromHours(1));
            Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync($"/api/planned-outages/{id}/complete", new { })).StatusCode);
        }

        var response = await _dispatcher.PostAsJsonAsync("/api/planned-outages", Plan("PO-C", _clock.GetUtcNow().AddDays(8)));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var problem = await Json(response);
        Assert.Equal("RepeatedOutage", problem.GetProperty("refusals")[0].GetProperty("rule").GetString());
        var repeated = problem.GetProperty("impact").GetProperty("repeatedOutageCustomers")[0];
        Assert.Equal(("CU-0001", 2), (repeated.GetProperty("customerId").GetString(), repeated.GetProperty("outages").GetInt32()));
    }

    /// <summary>A plan is an earlier cut for the plans already scheduled after it: planned latest first, the third
    /// (the earliest) would push the last over the threshold and is refused.</summary>
    [Fact]
    public async Task A_plan_that_would_make_a_later_plan_the_customers_third_cut_is_refused()
    {
        var now = _clock.GetUtcNow();
        Assert.Equal(HttpStatusCode.Created, (await _dispatcher.PostAsJsonAsync("/api/planned-outages", Plan("PO-L10", now.AddDays(10)))).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await _dispatcher.PostAsJsonAsync("/api/planned-outages", Plan("PO-L9", now.AddDays(9)))).StatusCode);

        var earliest = await _dispatcher.PostAsJsonAsync("/api/planned-outages", Plan("PO-L8", now.AddDays(8)));

        Assert.Equal(HttpStatusCode.Conflict, earliest.StatusCode);
        Assert.Equal("RepeatedOutage", (await Json(earliest)).GetProperty("refusals")[0].GetProperty("rule").GetString());
    }

    [Fact]
    public async Task Three_plans_for_the_same_customers_sent_at_once_are_checked_one_after_another_and_the_third_is_refused()
    {
        var now = _clock.GetUtcNow();

        var answers = await Task.WhenAll(Enumerable.Range(8, 3).Select(days =>
            _dispatcher.PostAsJsonAsync("/api/planned-outages", Plan($"PO-P{days}", now.AddDays(days)))));

        Assert.Equal(2, answers.Count(a => a.StatusCode == HttpStatusCode.Created));
        var refused = Assert.Single(answers, a => a.StatusCode == HttpStatusCode.Conflict);
        Assert.Equal("RepeatedOutage", (await Json(refused)).GetProperty("refusals")[0].GetProperty("rule").GetString());
        Assert.Equal(2, (await Json(await _dispatcher.GetAsync("/api/planned-outages?feederId=F-1"))).GetProperty("total").GetInt32());
    }

    [Theory]
    [InlineData("""{"kind":"Someday","feederId":"F-1","plannedStart":"2030-01-01T08:00:00Z","plannedEnd":"2030-01-01T12:00:00Z","reason":"x"}""", "kind")]
    [InlineData("""{"kind":"Planned","feederId":"F-1","plannedEnd":"2030-01-01T12:00:00Z","reason":"x"}""", "plannedStart")]
    [InlineData("""{"kind":"Planned","feederId":"F-1","transformerAreaIds":["TA-1"],"plannedStart":"2030-01-01T08:00:00Z","plannedEnd":"2030-01-01T12:00:00Z","reason":"x"}""", "transformerAreaIds")]
    [InlineData("""{"kind":"Planned","feederId":"F-404","plannedStart":"2030-01-01T08:00:00Z","plannedEnd":"2030-01-01T12:00:00Z","reason":"x"}""", "feederId")]
    [InlineData("""{"kind":"Planned","transformerAreaIds":["TA-1","TA-404"],"plannedStart":"2030-01-01T08:00:00Z","plannedEnd":"2030-01-01T12:00:00Z","reason":"x"}""", "transformerAreaIds[1]")]
    [InlineData("""{"kind":"Planned","feederId":"F-1","plannedStart":"2030-01-01T08:00:00Z","plannedEnd":"2030-01-01T07:00:00Z","reason":"x"}""", "plannedEnd")]
    [InlineData("""{"kind":"Planned","feederId":"F-1","plannedStart":"2030-01-01T08:00:00Z","plannedEnd":"2030-01-01T12:00:00Z"}""", "reason")]
    [InlineData("""{"id":"PO 1","kind":"Planned","feederId":"F-1","plannedStart":"2030-01-01T08:00:00Z","plannedEnd":"2030-01-01T12:00:00Z","reason":"x"}""", "id")]
    [InlineData("""{"kind":"Planned","feederId":"F-1","plannedStart":"9999-12-31T20:00:00Z","plannedEnd":"9999-12-31T23:00:00Z","reason":"x","dryRun":true}""", "plannedStart")]
    [InlineData("""{"kind":"Temporary","feederId":"F-1","plannedStart":"0001-01-01T00:00:00Z","plannedEnd":"0001-01-01T05:00:00Z","reason":"x"}""", "plannedStart")]
    public async Task A_bad_field_is_a_400_naming_it(string json, string field)
    {
        var response = await _dispatcher.PostAsync("/api/planned-outages", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, (await Json(response)).GetProperty("field").GetString());
    }

    [Fact]
    public async Task A_feeder_that_supplies_no_area_cannot_be_planned_out_and_nothing_is_scheduled()
    {
        await ApiScenario.ImportAsync(_dispatcher, "feeders", "feeder_id,name,substation_id,substation_name,region\nF-EMPTY,Spare bay,S-1,Binhai,R1\n");
        var start = _clock.GetUtcNow().AddDays(9);

        var response = await _dispatcher.PostAsJsonAsync("/api/planned-outages",
            new { id = "PO-EMPTY", kind = "Planned", feederId = "F-EMPTY", plannedStart = start, plannedEnd = start.AddHours(2), reason = "Replace the bay's breaker" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("feederId", (await Json(response)).GetProperty("field").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _dispatcher.GetAsync("/api/planned-outages/PO-EMPTY")).StatusCode);
    }

    [Fact]
    public async Task Cancelling_needs_a_reason_and_an_unknown_outage_is_a_404()
    {
        await _dispatcher.PostAsJsonAsync("/api/planned-outages", Plan("PO-1", _clock.GetUtcNow().AddDays(8)));

        var noReason = await _dispatcher.PostAsJsonAsync("/api/planned-outages/PO-1/cancel", new { });
        var cancelled = await _dispatcher.PostAsJsonAsync("/api/planned-outages/PO-1/cancel", new { reason = "Work moved to the spring" });

        Assert.Equal("reason", (await Json(noReason)).GetProperty("field").GetString());
        Assert.Equal("Cancelled", (await Json(cancelled)).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _dispatcher.GetAsync("/api/planned-outages/PO-404")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _dispatcher.PostAsJsonAsync("/api/planned-outages/PO-404/start", new { })).StatusCode);
    }

    [Fact]
    public async Task A_customer_lists_only_the_plans_that_cut_their_supply_and_only_when_and_why()
    {
        await ApiScenario.ImportTwoAreasAsync(_dispatcher); // customer-wang on TA-1 (feeder F-1), customer-li on TA-2 (F-2)
        var start = _clock.GetUtcNow().AddDays(8);
        Assert.Equal(HttpStatusCode.Created, (await _dispatcher.PostAsJsonAsync("/api/planned-outages", Plan("PO-F1", start))).StatusCode);
        var other = new { id = "PO-TA2", kind = "Temporary", transformerAreaIds = new[] { "TA-2" }, plannedStart = start, plannedEnd = start.AddHours(2), reason = "Move the transformer" };
        Assert.Equal(HttpStatusCode.Created, (await _dispatcher.PostAsJsonAsync("/api/planned-outages", other)).StatusCode);
        var wang = await _api.ClientForAsync("customer-wang");

        var own = await Json(await wang.GetAsync("/api/planned-outages?feederId=F-2"));

        var plan = Assert.Single(own.GetProperty("items").EnumerateArray());
        Assert.Equal(1, own.GetProperty("total").GetInt32());
        Assert.Equal(("PO-F1", "Scheduled", "Replace the 10 kV switch"), (plan.GetProperty("id").GetString(), plan.GetProperty("status").GetString(), plan.GetProperty("reason").GetString()));
        Assert.Equal(start, plan.GetProperty("plannedStart").GetDateTimeOffset(), TimeSpan.FromMilliseconds(1));
        foreach (var hidden in new[] { "affectedCustomers", "importantCustomers", "feederId", "transformerAreaIds" })
        {
            Assert.False(plan.TryGetProperty(hidden, out _), $"A customer is not told {hidden}.");
        }
        var li = await Json(await (await _api.ClientForAsync("customer-li")).GetAsync("/api/planned-outages"));
        Assert.Equal("PO-TA2", Assert.Single(li.GetProperty("items").EnumerateArray()).GetProperty("id").GetString());
        // The plan itself, and everything that changes one, stays the dispatchers'.
        Assert.Equal(HttpStatusCode.Forbidden, (await wang.GetAsync("/api/planned-outages/PO-F1")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await wang.PostAsJsonAsync("/api/planned-outages/PO-F1/cancel", new { reason = "I will be home" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await (await _api.ClientForAsync("crew-c12")).GetAsync("/api/planned-outages")).StatusCode);
    }

    [Theory]
    [InlineData(null, HttpStatusCode.Unauthorized)]
    [InlineData("crew-c12", HttpStatusCode.Forbidden)]
    [InlineData("customer-wang", HttpStatusCode.Forbidden)]
    [InlineData("operator-zhao", HttpStatusCode.Forbidden)]
    public async Task Only_dispatchers_plan_outages(string? user, HttpStatusCode expected)
    {
        var client = user is null ? _api.CreateClient() : await _api.ClientForAsync(user);

        var response = await client.PostAsJsonAsync("/api/planned-outages", Plan("PO-1", _clock.GetUtcNow().AddDays(8), dryRun: true));

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal(expected, (await client.GetAsync("/api/planned-outages/PO-1")).StatusCode);
    }

    /// <summary>A reason is measured in characters as people count them: 300 emoji were "longer than 500 characters".</summary>
    [Fact]
    public async Task A_reason_is_measured_in_characters_as_people_count_them()
    {
        var start = _clock.GetUtcNow().AddDays(8);
        var emoji = await _dispatcher.PostAsJsonAsync("/api/planned-outages", new
        {
            kind = "Planned", feederId = "F-1", plannedStart = start, plannedEnd = start.AddHours(4), reason = string.Concat(Enumerable.Repeat("🔌", 300)), dryRun = true,
        });
        var tooLong = await _dispatcher.PostAsJsonAsync("/api/planned-outages", new
        {
            kind = "Planned", feederId = "F-1", plannedStart = start, plannedEnd = start.AddHours(4), reason = new string('停', 501), dryRun = true,
        });

        Assert.Equal(HttpStatusCode.OK, emoji.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Equal("reason", (await Json(tooLong)).GetProperty("field").GetString());
    }

    private static object Plan(string id, DateTimeOffset start, bool dryRun = false) => ApiScenario.PlannedOutage(id, start, dryRun);

    private static Task<JsonElement> Json(HttpResponseMessage response) => ApiScenario.JsonAsync(response);
}

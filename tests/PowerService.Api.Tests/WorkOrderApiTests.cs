using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using PowerService.Api.Tests.Support;
using PowerService.TestSupport;

namespace PowerService.Api.Tests;

/// <summary>Work orders and crews over HTTP, as the dispatch console, the crew PDA and the customer app use them.</summary>
public sealed class WorkOrderApiTests : IAsyncLifetime
{
    private readonly ApiFactory _api = new();
    private HttpClient _dispatcher = null!;
    private HttpClient _crew = null!;
    private HttpClient _customer = null!;

    public async Task InitializeAsync()
    {
        _dispatcher = await _api.ClientForAsync("dispatcher-li");
        _crew = await _api.ClientForAsync("crew-c12");
        _customer = await _api.ClientForAsync("customer-wang");
    }

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task A_fault_is_dispatched_to_the_crew_which_works_it_on_its_PDA_until_the_callback_closes_it()
    {
        await RegisterCrewAsync("C-12");

        var created = await _dispatcher.PostAsJsonAsync("/api/work-orders", Fault("WO-1"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("/api/work-orders/WO-1", created.Headers.Location?.OriginalString);
        Assert.Equal("Dispatched", (await Json(created)).GetProperty("state").GetString());

        Assert.Equal("Dispatched", (await Json(await _crew.GetAsync("/api/work-orders/WO-1"))).GetProperty("state").GetString());
        foreach (var (action, state) in new[] { ("accept", "Accepted"), ("en-route", "EnRoute"), ("arrive", "OnSite"), ("resolve", "CallbackPending") })
        {
            var response = await _crew.PostAsJsonAsync("/api/work-orders/WO-1/transitions", new { action, note = $"{action} from the PDA", location = new { latitude = 20.002, longitude = 110.301 } });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(state, (await Json(response)).GetProperty("state").GetString());
        }
        var closed = await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-1/callback", new { outcome = "satisfied" });

        Assert.Equal("Closed", (await Json(closed)).GetProperty("state").GetString());
        var history = await Json(await _dispatcher.GetAsync("/api/work-orders/WO-1/history"));
        Assert.Equal(
            ["Created", "Dispatched", "Accepted", "EnRoute", "Arrived", "Resolved", "CallbackScheduled", "CallbackAttempted", "Closed"],
            history.EnumerateArray().Select(e => e.GetProperty("type").GetString()));
        Assert.Equal("crew:crew-c12", history[2].GetProperty("actor").GetString());
    }

    [Fact]
    public async Task A_crews_arrival_sent_from_far_away_is_a_409_saying_how_far_and_the_dispatcher_records_it_instead()
    {
        await RegisterCrewAsync("C-12");
        await _dispatcher.PostAsJsonAsync("/api/work-orders", Fault("WO-FAR"));
        foreach (var action in new[] { "accept", "en-route" })
        {
            await _crew.PostAsJsonAsync("/api/work-orders/WO-FAR/transitions", new { action });
        }

        var fromDepot = await _crew.PostAsJsonAsync("/api/work-orders/WO-FAR/transitions", new { action = "arrive", location = new { latitude = 21.0, longitude = 110.3 } });
        var byDispatcher = await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-FAR/transitions", new { action = "arrive", note = "crew phoned: GPS wrong" });

        Assert.Equal(HttpStatusCode.Conflict, fromDepot.StatusCode);
        Assert.Contains("the position sent with the arrival is 111.2 km from the site (at most 2 km)", (await Json(fromDepot)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("OnSite", (await Json(byDispatcher)).GetProperty("state").GetString());
        var history = await Json(await _dispatcher.GetAsync("/api/work-orders/WO-FAR/history"));
        Assert.Single(history.EnumerateArray(), e => e.GetProperty("type").GetString() == "Arrived");
    }

    [Fact]
    public async Task A_dispatcher_closes_or_reopens_an_order_waiting_for_its_callback_and_the_crew_may_not()
    {
        await RegisterCrewAsync("C-12");
        foreach (var id in new[] { "WO-CL", "WO-RE" })
        {
            await _dispatcher.PostAsJsonAsync("/api/work-orders", Fault(id));
            await WorkedToItsCallbackAsync(id);
        }

        var byCrew = await _crew.PostAsJsonAsync("/api/work-orders/WO-CL/transitions", new { action = "close" });
        var closed = await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-CL/transitions", new { action = "close", note = "the customer confirmed on the phone" });
        var reopened = await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-RE/transitions", new { action = "reopen", note = "the fuse blew again" });

        Assert.Equal(HttpStatusCode.Forbidden, byCrew.StatusCode);
        Assert.Equal("Closed", (await Json(closed)).GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.OK, reopened.StatusCode); // and back to dispatch, which has a crew for it at once
        var history = await Json(await _dispatcher.GetAsync("/api/work-orders/WO-RE/history"));
        Assert.Single(history.EnumerateArray(), e => e.GetProperty("type").GetString() == "Reopened" && e.GetProperty("actor").GetString() == "dispatcher:dispatcher-li");
        Assert.Equal(HttpStatusCode.Conflict, (await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-CL/transitions", new { action = "reopen" })).StatusCode);
    }

    /// <summary>A callback that could not reach the customer: the order's list row says when to call again (no promise
    /// runs meanwhile, so the console's row had nothing to show), and the row leaves the callback list once the call is made.</summary>
    [Fact]
    public async Task A_list_row_says_when_to_call_a_customer_the_callback_could_not_reach()
    {
        await RegisterCrewAsync("C-12");
        await _dispatcher.PostAsJsonAsync("/api/work-orders", Fault("WO-UR"));
        await WorkedToItsCallbackAsync("WO-UR");

        var missed = await Json(await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-UR/callback", new { outcome = "Unreachable" }));
        var retryAt = missed.GetProperty("callback").GetProperty("nextAttemptAt").GetDateTimeOffset();
        var row = (await Json(await _dispatcher.GetAsync("/api/work-orders?state=CallbackPending&region=R1"))).GetProperty("items").EnumerateArray().Single(r => r.GetProperty("id").GetString() == "WO-UR");
        Assert.Equal(retryAt, row.GetProperty("callbackRetryAt").GetDateTimeOffset());

        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-UR/callback", new { outcome = "Satisfied" })).StatusCode);
        Assert.Empty((await Json(await _dispatcher.GetAsync("/api/work-orders?state=CallbackPending&region=R1"))).GetProperty("items").EnumerateArray());
    }

    /// <summary>An IVR that lost the answer to its "could not reach" and sent it again three times closed the order
    /// "unreachable" after one real call: with its request id, a resend (even with the version it saw) is answered with
    /// the order as it is; another outcome under the same id is another request.</summary>
    [Fact]
    public async Task A_callback_sent_again_with_its_request_id_is_one_attempt()
    {
        await RegisterCrewAsync("C-12");
        await _dispatcher.PostAsJsonAsync("/api/work-orders", Fault("WO-CB3"));
        await WorkedToItsCallbackAsync("WO-CB3");
        var seen = (await Json(await _dispatcher.GetAsync("/api/work-orders/WO-CB3"))).GetProperty("version").GetInt32();
        var attempt = new { outcome = "Unreachable", version = seen, requestId = "ivr-call-7" };

        var answers = new List<HttpResponseMessage>();
        for (var send = 0; send < 4; send++)
        {
            answers.Add(await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-CB3/callback", attempt));
        }
        var reached = await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-CB3/callback", new { outcome = "Satisfied", requestId = "ivr-call-7" });

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        var last = await Json(answers[^1]);
        Assert.Equal(("CallbackPending", 1), (last.GetProperty("state").GetString(), last.GetProperty("callback").GetProperty("attempts").GetInt32()));
        Assert.Equal(HttpStatusCode.OK, reached.StatusCode);
        Assert.Equal("Closed", (await Json(reached)).GetProperty("state").GetString());
    }

    /// <summary>Two agents record "could not reach" for the same call at the same moment: both were recorded, the second
    /// counted as the next round (its 2 h retry skipped), and the next pair closed the order "unreachable" after two
    /// real rounds. With the version each saw, the second is a 409 that says what was recorded.</summary>
    [Fact]
    public async Task A_second_agents_callback_on_the_version_both_saw_is_a_409_not_a_second_attempt()
    {
        await RegisterCrewAsync("C-12");
        await _dispatcher.PostAsJsonAsync("/api/work-orders", Fault("WO-CB2"));
        await WorkedToItsCallbackAsync("WO-CB2");
        var seen = (await Json(await _dispatcher.GetAsync("/api/work-orders/WO-CB2"))).GetProperty("version").GetInt32();

        var answers = await Task.WhenAll(
            _dispatcher.PostAsJsonAsync("/api/work-orders/WO-CB2/callback", new { outcome = "Unreachable", version = seen }),
            _dispatcher.PostAsJsonAsync("/api/work-orders/WO-CB2/callback", new { outcome = "Unreachable", version = seen }));

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.Conflict], answers.Select(a => a.StatusCode).Order());
        var refused = await Json(answers.Single(a => a.StatusCode == HttpStatusCode.Conflict));
        Assert.Contains("last callback: Unreachable, attempt 1", refused.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("changed-since-seen", refused.GetProperty("code").GetString());
        Assert.Equal(1, (await Json(await _dispatcher.GetAsync("/api/work-orders/WO-CB2"))).GetProperty("callback").GetProperty("attempts").GetInt32());
        Assert.Equal("version", (await Json(await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-CB2/callback", new { outcome = "Unreachable", version = 0 }))).GetProperty("field").GetString());
    }

    [Fact]
    public async Task An_illegal_transition_is_a_409_and_changes_nothing()
    {
        await RegisterCrewAsync("C-12");
        await _dispatcher.PostAsJsonAsync("/api/work-orders", Fault("WO-2"));

        var response = await _crew.PostAsJsonAsync("/api/work-orders/WO-2/transitions", new { action = "resolve" });

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Dispatched", (await Json(await _dispatcher.GetAsync("/api/work-orders/WO-2"))).GetProperty("state").GetString());
    }

    [Fact]
    public async Task A_transition_sent_again_with_its_request_id_is_answered_not_applied_twice()
    {
        await RegisterCrewAsync("C-12");
        await _dispatcher.PostAsJsonAsync("/api/work-orders", Fault("WO-2R"));
        var accept = new { action = "accept", requestId = "0b6f9d2e-5a43-4c1e-9d0e-2f1f3b7c8a11" };

        var first = await _crew.PostAsJsonAsync("/api/work-orders/WO-2R/transitions", accept);
        var again = await _crew.PostAsJsonAsync("/api/work-orders/WO-2R/transitions", accept);
        var withoutId = await _crew.PostAsJsonAsync("/api/work-orders/WO-2R/transitions", new { action = "accept" });
        var badId = await _crew.PostAsJsonAsync("/api/work-orders/WO-2R/transitions", new { action = "en-route", requestId = "not an id" });

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal((await Json(first)).GetProperty("version").GetInt32(), (await Json(again)).GetProperty("version").GetInt32());
        Assert.Equal(HttpStatusCode.Conflict, withoutId.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badId.StatusCode);
        Assert.Equal("requestId", (await Json(badId)).GetProperty("field").GetString());
        var history = await Json(await _dispatcher.GetAsync("/api/work-orders/WO-2R/history"));
        Assert.Single(history.EnumerateArray(), e => e.GetProperty("type").GetString() == "Accepted");
        Assert.Equal("Accepted", (await Json(await _dispatcher.GetAsync("/api/work-orders/WO-2R"))).GetProperty("state").GetString());
    }

    /// <summary>The crew found nobody home and could not call: its PDA showed a customer id and a latitude. The crew
    /// working the order reads its customer's name, phone and place; another crew, the customer, and the crew after the
    /// work is done do not.</summary>
    [Fact]
    public async Task The_crew_working_an_order_reads_its_customers_contact_and_nobody_else_but_dispatchers_does()
    {
        await ApiScenario.ImportCustomerAsync(_dispatcher);
        await RegisterCrewAsync("C-12");
        var created = await _dispatcher.PostAsJsonAsync("/api/work-orders", new { id = "WO-CALL", kind = "FaultRepair", description = "No power", customerId = "CU-0001" });
        Assert.Equal("C-12", (await Json(created)).GetProperty("crewId").GetString());

        var contact = await _crew.GetAsync("/api/work-orders/WO-CALL/contact");

        Assert.Equal(HttpStatusCode.OK, contact.StatusCode);
        var body = await Json(contact);
        Assert.Equal(("CU-0001", "Wang Fang", "13900000001"), (body.GetProperty("customerId").GetString(), body.GetProperty("name").GetString(), body.GetProperty("phone").GetString()));
        Assert.Equal(20.0, body.GetProperty("location").GetProperty("latitude").GetDouble());
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.GetAsync("/api/work-orders/WO-CALL/contact")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _customer.GetAsync("/api/work-orders/WO-CALL/contact")).StatusCode);

        await RegisterCrewAsync("C-77");
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-CALL/assign", new { crewId = "C-77" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _crew.GetAsync("/api/work-orders/WO-CALL/contact")).StatusCode); // no longer C-12's

        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-CALL/assign", new { crewId = "C-12" })).StatusCode);
        foreach (var action in new[] { "accept", "en-route", "arrive", "resolve" })
        {
            Assert.Equal(HttpStatusCode.OK, (await _crew.PostAsJsonAsync("/api/work-orders/WO-CALL/transitions", new { action, location = new { latitude = 20.0, longitude = 110.3 } })).StatusCode);
        }
        var after = await _crew.GetAsync("/api/work-orders/WO-CALL/contact");
        Assert.Equal(HttpStatusCode.Conflict, after.StatusCode);
        Assert.Contains("while it works the order", (await Json(after)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_report_sent_again_with_its_request_id_reaches_the_same_order_instead_of_making_a_second()
    {
        await ApiScenario.ImportCustomerAsync(_dispatcher);
        var report = new { kind = "Complaint", description = "Bill twice as high as last month", requestId = "5d7c2a8e-0c4b-4d0e-9a51-6f0b1c2d3e4f" };

        var first = await _customer.PostAsJsonAsync("/api/work-orders", report);
        var again = await _customer.PostAsJsonAsync("/api/work-orders", report);
        var byAnother = await _dispatcher.PostAsJsonAsync("/api/work-orders", new { report.kind, report.description, report.requestId, region = "R1", location = new { latitude = 20.0, longitude = 110.3 } });

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        var id = (await Json(first)).GetProperty("id").GetString();
        Assert.Equal(id, (await Json(again)).GetProperty("id").GetString());
        Assert.Single((await Json(await _customer.GetAsync("/api/work-orders"))).GetProperty("items").EnumerateArray());
        Assert.Equal(HttpStatusCode.Created, byAnother.StatusCode);
        Assert.NotEqual(id, (await Json(byAnother)).GetProperty("id").GetString());
        var history = await Json(await _dispatcher.GetAsync($"/api/work-orders/{id}/history"));
        Assert.Single(history.EnumerateArray(), e => e.GetProperty("type").GetString() == "Created");
    }

    /// <summary>An IVR whose call counter restarted sent another customer's report under a used request id: it was
    /// answered 201 with the first order and the report never recorded. A 409 with a code the IVR can branch on.</summary>
    [Fact]
    public async Task Another_report_under_a_used_request_id_is_a_409_coded_request_id_reused_and_nothing_is_created()
    {
        await ApiScenario.ImportCustomerAsync(_dispatcher);
        var first = await _dispatcher.PostAsJsonAsync("/api/work-orders", new { kind = "FaultRepair", description = "No power", customerId = "CU-0001", requestId = "ivr-0001" });

        var other = await _dispatcher.PostAsJsonAsync("/api/work-orders", new { kind = "Complaint", description = "Bill too high", customerId = "CU-0001", requestId = "ivr-0001" });

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Conflict), (first.StatusCode, other.StatusCode));
        var problem = await Json(other);
        Assert.Equal("request-id-reused", problem.GetProperty("code").GetString());
        Assert.Contains("Request id 'ivr-0001' was used for another report", problem.GetProperty("detail").GetString());
        Assert.Equal(1, (await Json(await _dispatcher.GetAsync("/api/work-orders?region=R1"))).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task An_order_sent_again_under_the_senders_own_id_is_answered_and_a_different_one_under_it_is_a_409()
    {
        await RegisterCrewAsync("C-12");

        var first = await _dispatcher.PostAsJsonAsync("/api/work-orders", Fault("WO-95598-0001"));
        var again = await _dispatcher.PostAsJsonAsync("/api/work-orders", Fault("WO-95598-0001"));
        var other = await _dispatcher.PostAsJsonAsync("/api/work-orders", new { id = "WO-95598-0001", kind = "Complaint", description = "another matter", region = "R1" });

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Created), (first.StatusCode, again.StatusCode));
        Assert.Equal((await Json(first)).GetProperty("version").GetInt32(), (await Json(again)).GetProperty("version").GetInt32());
        Assert.Equal(HttpStatusCode.Conflict, other.StatusCode);
        var history = await Json(await _dispatcher.GetAsync("/api/work-orders/WO-95598-0001/history"));
        Assert.Single(history.EnumerateArray(), e => e.GetProperty("type").GetString() == "Created");
    }

    [Fact]
    public async Task A_crew_cannot_cancel_its_own_order_and_is_told_what_it_may_do()
    {
        await RegisterCrewAsync("C-12");
        await _dispatcher.PostAsJsonAsync("/api/work-orders", Fault("WO-2C"));

        var response = await _crew.PostAsJsonAsync("/api/work-orders/WO-2C/transitions", new { action = "cancel" });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await Json(response);
        Assert.Equal("action", problem.GetProperty("field").GetString());
        Assert.Equal("A crew may accept, reject, en-route, arrive, resolve; cancel is for dispatchers.", problem.GetProperty("detail").GetString());
        Assert.Equal("Dispatched", (await Json(await _dispatcher.GetAsync("/api/work-orders/WO-2C"))).GetProperty("state").GetString());
    }

    [Theory]
    [InlineData("""{"kind":"Fault","description":"x","region":"R1","location":{"latitude":20,"longitude":110}}""", "kind")]
    [InlineData("""{"kind":"FaultRepair","region":"R1","location":{"latitude":20,"longitude":110}}""", "description")]
    [InlineData("""{"kind":"FaultRepair","description":"x","region":"R1","location":{"latitude":200,"longitude":110}}""", "location.latitude")]
    [InlineData("""{"kind":"FaultRepair","description":"x","region":"R1","priority":"urgentest","location":{"latitude":20,"longitude":110}}""", "priority")]
    [InlineData("""{"id":"WO 1","kind":"FaultRepair","description":"x","region":"R1","location":{"latitude":20,"longitude":110}}""", "id")]
    // Enum.TryParse would OR a list of names into a third kind, and read a padded or signed number as one.
    [InlineData("""{"kind":"NewConnection,MeterInstallation","description":"x","region":"R1","location":{"latitude":20,"longitude":110}}""", "kind")]
    [InlineData("""{"kind":" 5","description":"x","region":"R1","location":{"latitude":20,"longitude":110}}""", "kind")]
    [InlineData("""{"kind":"+5","description":"x","region":"R1","location":{"latitude":20,"longitude":110}}""", "kind")]
    [InlineData("""{"kind":"FaultRepair","description":"x","region":"R1","priority":"Normal, High","location":{"latitude":20,"longitude":110}}""", "priority")]
    [InlineData("""{"kind":"FaultRepair","description":"x","region":"R1","location":{"latitude":"north","longitude":110}}""", "location.latitude")]
    // An area no topology names was stored as given: the order pointed the map and the outage checks at nothing.
    [InlineData("""{"kind":"FaultRepair","description":"x","region":"R1","transformerAreaId":"TA-NOPE","location":{"latitude":20,"longitude":110}}""", "transformerAreaId")]
    // A region nobody serves (no crew, no feeder; a typo of 海口龙华): the order would wait on no region's console.
    [InlineData("""{"kind":"Complaint","description":"x","region":"海口龙花","location":{"latitude":20,"longitude":110}}""", "region")]
    public async Task A_bad_field_is_a_400_naming_it(string json, string field)
    {
        var response = await _dispatcher.PostAsync("/api/work-orders", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await Json(response);
        Assert.Equal((field, "invalid-field"), (problem.GetProperty("field").GetString(), problem.GetProperty("code").GetString()));
        // The field is named apart; the detail is the reason a person reads, without .NET's "(Parameter 'x')".
        Assert.DoesNotContain("(Parameter", problem.GetProperty("detail").GetString());
    }

    /// <summary>Lengths count characters as people do: 1,500 emoji were refused as "longer than 2000 characters" (.NET
    /// counts an emoji as two UTF-16 units); 2,001 Chinese characters are still one too many.</summary>
    [Fact]
    public async Task A_description_is_measured_in_characters_as_people_count_them()
    {
        await ApiScenario.ImportCustomerAsync(_dispatcher);

        var emoji = await _dispatcher.PostAsJsonAsync("/api/work-orders", new { kind = "Consultation", description = string.Concat(Enumerable.Repeat("🔌", 1500)), customerId = "CU-0001" });
        var tooLong = await _dispatcher.PostAsJsonAsync("/api/work-orders", new { kind = "Consultation", description = new string('停', 2001), customerId = "CU-0001" });

        Assert.Equal(HttpStatusCode.Created, emoji.StatusCode);
        Assert.Equal(3000, (await Json(emoji)).GetProperty("description").GetString()!.Length);
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Equal("description", (await Json(tooLong)).GetProperty("field").GetString());
    }

    /// <summary>A region that contradicts the customer's or the transformer area's (a CRM's stale district) put the
    /// order where no crew of the customer's region is offered it and no console of it shows it.</summary>
    [Fact]
    public async Task A_region_other_than_the_customers_or_the_areas_is_a_400_naming_it()
    {
        await ApiScenario.ImportCustomerAsync(_dispatcher);
        await ApiScenario.ServeRegionsAsync(_dispatcher, "R2");

        var forCustomer = await _dispatcher.PostAsJsonAsync("/api/work-orders", new { kind = "Complaint", description = "x", customerId = "CU-0001", region = "R2" });
        var forArea = await _dispatcher.PostAsJsonAsync("/api/work-orders", new
        {
            kind = "FaultRepair", description = "x", transformerAreaId = "TA-1", region = "R2", location = new { latitude = 20.0, longitude = 110.3 },
        });

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest), (forCustomer.StatusCode, forArea.StatusCode));
        Assert.Equal(("region", "Customer 'CU-0001' is served in region 'R1', not 'R2'."),
            ((await Json(forCustomer)).GetProperty("field").GetString(), (await Json(forCustomer)).GetProperty("detail").GetString()));
        Assert.Equal(("region", "Transformer area 'TA-1' is in region 'R1', not 'R2'."),
            ((await Json(forArea)).GetProperty("field").GetString(), (await Json(forArea)).GetProperty("detail").GetString()));
        Assert.Equal(0, (await Json(await _dispatcher.GetAsync("/api/work-orders?region=R2"))).GetProperty("total").GetInt32());
    }

    /// <summary>Text is plain text: a NUL (which PostgreSQL refuses, failing the batch of writes it is in) or an escape
    /// sequence is a 400 naming the field; a region is one line, a description may have line breaks.</summary>
    [Theory]
    [InlineData("""{"kind":"FaultRepair","description":"x","region":"R\u0000X","location":{"latitude":20,"longitude":110}}""", "region", "region contains the control character U+0000; it takes plain text.")]
    [InlineData("""{"kind":"FaultRepair","description":"x","region":"R1\nforged log line","location":{"latitude":20,"longitude":110}}""", "region", "region contains the control character U+000A; it takes one line of plain text.")]
    [InlineData("""{"kind":"FaultRepair","description":"\u001b[31mred","region":"R1","location":{"latitude":20,"longitude":110}}""", "description", "description contains the control character U+001B; it takes plain text.")]
    public async Task A_control_character_in_text_is_a_400_naming_the_field_and_nothing_is_created(string json, string field, string detail)
    {
        var response = await _dispatcher.PostAsync("/api/work-orders", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await Json(response);
        Assert.Equal((field, detail), (problem.GetProperty("field").GetString(), problem.GetProperty("detail").GetString()));
        Assert.Equal(0, (await Json(await _dispatcher.GetAsync("/api/work-orders?region=R1"))).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task A_description_keeps_its_line_breaks_and_a_body_of_the_wrong_shape_says_what_the_request_takes()
    {
        await ApiScenario.ServeRegionsAsync(_dispatcher, "R9");
        var created = await _dispatcher.PostAsJsonAsync("/api/work-orders", new
        {
            id = "WO-LINES", kind = "FaultRepair", description = "Pole 17 leaning\nwire down across the lane", region = "R9", location = new { latitude = 20.0, longitude = 110.0 },
        });
        var list = await _dispatcher.PostAsync("/api/work-orders", new StringContent("[]", System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("Pole 17 leaning\nwire down across the lane", (await Json(created)).GetProperty("description").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, list.StatusCode);
        Assert.StartsWith("The body is not what this request takes: an object with id, kind, ", (await Json(list)).GetProperty("detail").GetString());
    }

    /// <summary>A field the request does not have is refused, not dropped: a PDA that sends <c>notes</c> for
    /// <c>note</c> would otherwise resolve the order and lose what the crew wrote.</summary>
    [Fact]
    public async Task A_misspelt_field_is_a_400_naming_it_and_the_fields_there_are_and_the_order_is_not_changed()
    {
        await RegisterCrewAsync("C-13");
        await _dispatcher.PostAsJsonAsync("/api/work-orders", Fault("WO-2N"));

        var misspelt = await _crew.PostAsJsonAsync("/api/work-orders/WO-2N/transitions", new { action = "accept", notes = "on my way" });
        var nested = await _crew.PostAsJsonAsync("/api/work-orders/WO-2N/transitions", new { action = "accept", location = new { lat = 20.1, longitude = 110.2 } });

        Assert.Equal(HttpStatusCode.BadRequest, misspelt.StatusCode);
        var problem = await Json(misspelt);
        Assert.Equal("notes", problem.GetProperty("field").GetString());
        Assert.Equal("'notes' is not a field of this request; it takes action, note, location, targetId, requestId, version.", problem.GetProperty("detail").GetString());
        Assert.Equal("location.lat", (await Json(nested)).GetProperty("field").GetString());
        Assert.Contains("it takes latitude, longitude", (await Json(nested)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("Dispatched", (await Json(await _dispatcher.GetAsync("/api/work-orders/WO-2N"))).GetProperty("state").GetString());
    }

    /// <summary>A value of the wrong JSON type is named with what the field takes, in the request's own terms.</summary>
    [Theory]
    [InlineData("""{"kind":"FaultRepair","description":"x","region":"R1","priority":3,"location":{"latitude":20,"longitude":110}}""", "priority", "priority is not valid: it takes text")]
    [InlineData("""{"kind":"FaultRepair","description":"x","region":"R1","location":{"latitude":"north","longitude":110}}""", "location.latitude", "location.latitude is not valid: it takes a number")]
    [InlineData("""{"kind":"FaultRepair","description":"x","region":"R1","location":[20,110]}""", "location", "location is not valid: it takes an object with latitude, longitude")]
    [InlineData("""{"kind":"FaultRepair","description":"x","region":"R1",""", null, "The body is not valid JSON (line 1, byte ")]
    public async Task A_value_of_the_wrong_type_says_what_the_field_takes_without_dotnet_type_names(string json, string? field, string detail)
    {
        var response = await _dispatcher.PostAsync("/api/work-orders", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await Json(response);
        Assert.Equal(field, problem.TryGetProperty("field", out var named) ? named.GetString() : null);
        Assert.StartsWith(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("PowerService", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_orders_and_other_peoples_orders_answer_404_and_missing_tokens_401()
    {
        await RegisterCrewAsync("C-77");
        await _dispatcher.PostAsJsonAsync("/api/work-orders", Fault("WO-3"));

        Assert.Equal(HttpStatusCode.NotFound, (await _dispatcher.GetAsync("/api/work-orders/WO-none")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _crew.GetAsync("/api/work-orders/WO-3")).StatusCode); // dispatched to C-77
        Assert.Equal(HttpStatusCode.NotFound, (await _crew.PostAsJsonAsync("/api/work-orders/WO-3/transitions", new { action = "accept" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _customer.GetAsync("/api/work-orders/WO-3")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _api.CreateClient().GetAsync("/api/work-orders/WO-3")).StatusCode);
    }

    [Fact]
    public async Task Only_dispatchers_assign_and_a_dispatcher_override_moves_the_order_to_another_crew()
    {
        await RegisterCrewAsync("C-77");
        await RegisterCrewAsync("C-12", latitude: 20.5);
        await _dispatcher.PostAsJsonAsync("/api/work-orders", Fault("WO-4"));

        Assert.Equal(HttpStatusCode.Forbidden, (await _crew.PostAsJsonAsync("/api/work-orders/WO-4/assign", new { crewId = "C-12" })).StatusCode);
        var assigned = await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-4/assign", new { crewId = "C-12", note = "C-12 knows the site" });

        Assert.Equal(HttpStatusCode.OK, assigned.StatusCode);
        Assert.Equal("C-12", (await Json(assigned)).GetProperty("crewId").GetString());
        Assert.Equal(HttpStatusCode.OK, (await _crew.GetAsync("/api/work-orders/WO-4")).StatusCode);
        // An unknown crew is named as the dispatcher knows it, whichever grain found it missing.
        var unknown = await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-4/assign", new { crewId = "C-404" });
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(("Crew not found", "Crew 'C-404' does not exist."),
            ((await Json(unknown)).GetProperty("title").GetString(), (await Json(unknown)).GetProperty("detail").GetString()));
    }

    [Fact]
    public async Task An_assignment_to_a_crew_off_shift_or_to_an_order_changed_since_the_dispatcher_saw_it_is_a_409()
    {
        await RegisterCrewAsync("C-77");
        await ApiScenario.RegisterCrewAsync(_dispatcher, "C-NIGHT", offShiftUntilTomorrow: true);
        var seen = await Json(await _dispatcher.PostAsJsonAsync("/api/work-orders", Fault("WO-4V")));
        var version = seen.GetProperty("version").GetInt32();
        await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-4V/transitions", new { action = "suspend", note = "customer not home" });

        var offShift = await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-4V/assign", new { crewId = "C-NIGHT" });
        var stale = await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-4V/assign", new { crewId = "C-77", version });
        var badVersion = await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-4V/assign", new { crewId = "C-77", version = 0 });

        Assert.Equal(HttpStatusCode.Conflict, offShift.StatusCode);
        Assert.Contains("Crew 'C-NIGHT' is off shift", (await Json(offShift)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("force-required", (await Json(offShift)).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.Conflict, stale.StatusCode);
        Assert.Contains($"changed since you saw it (version {version}", (await Json(stale)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, badVersion.StatusCode);
        Assert.Equal("version", (await Json(badVersion)).GetProperty("field").GetString());
        // Called in off shift: the dispatcher forces it.
        var forced = await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-4V/assign", new { crewId = "C-NIGHT", force = true });
        Assert.Equal("C-NIGHT", (await Json(forced)).GetProperty("crewId").GetString());
        var dispatched = (await Json(await _dispatcher.GetAsync("/api/work-orders/WO-4V/history"))).EnumerateArray().Last(e => e.GetProperty("type").GetString() == "Dispatched");
        Assert.Contains("\"forced\":true", dispatched.GetProperty("payloadJson").GetString(), StringComparison.Ordinal); // the journal says it was knowing
    }

    [Fact]
    public async Task An_assignment_sent_again_with_its_request_id_is_answered_not_refused_as_already_dispatched()
    {
        await RegisterCrewAsync("C-77");
        await RegisterCrewAsync("C-12", latitude: 20.5);
        await _dispatcher.PostAsJsonAsync("/api/work-orders", Fault("WO-4R"));
        var assign = new { crewId = "C-12", note = "C-12 knows the site", requestId = "7e1c0d5a-2b3f-4a6e-8c9d-0f1e2d3c4b5a" };

        var first = await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-4R/assign", assign);
        var again = await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-4R/assign", assign);
        var withoutId = await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-4R/assign", new { crewId = "C-12" });

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal("C-12", (await Json(again)).GetProperty("crewId").GetString());
        Assert.Equal((await Json(first)).GetProperty("version").GetInt32(), (await Json(again)).GetProperty("version").GetInt32());
        Assert.Equal(HttpStatusCode.Conflict, withoutId.StatusCode);
        var history = await Json(await _dispatcher.GetAsync("/api/work-orders/WO-4R/history"));
        Assert.Single(history.EnumerateArray(), e => e.GetProperty("type").GetString() == "Dispatched" && e.GetProperty("actor").GetString() == "dispatcher:dispatcher-li");
    }

    [Fact]
    public async Task A_merge_into_an_order_that_does_not_exist_or_is_finished_is_refused_and_two_orders_cannot_merge_into_each_other()
    {
        await RegisterCrewAsync("C-12");
        foreach (var id in new[] { "WO-M1", "WO-M2", "WO-M3", "WO-M4" })
        {
            await _dispatcher.PostAsJsonAsync("/api/work-orders", Fault(id));
        }
        await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-M4/transitions", new { action = "cancel" });

        var unknown = await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-M1/transitions", new { action = "merge", targetId = "WO-NOWHERE" });
        var finished = await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-M1/transitions", new { action = "merge", targetId = "WO-M4" });
        var merged = await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-M2/transitions", new { action = "merge", targetId = "WO-M3" });
        var back = await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-M3/transitions", new { action = "merge", targetId = "WO-M2" });

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, finished.StatusCode);
        Assert.Equal(HttpStatusCode.OK, merged.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, back.StatusCode);
        Assert.Equal("Dispatched", (await Json(await _dispatcher.GetAsync("/api/work-orders/WO-M1"))).GetProperty("state").GetString());
        Assert.Equal("Dispatched", (await Json(await _dispatcher.GetAsync("/api/work-orders/WO-M3"))).GetProperty("state").GetString());
    }

    /// <summary>A dispatcher merged one customer's request into another's as its duplicate, then the other customer
    /// cancelled theirs from the app: the merged request stayed "handled together with a related repair" for good, in
    /// no list, done by no one. It is reopened: back on its customer's list and in dispatch, with why in its history.</summary>
    [Fact]
    public async Task A_request_merged_into_another_customers_request_is_reopened_when_that_one_is_cancelled()
    {
        await ApiScenario.ImportTwoAreasAsync(_dispatcher);
        await RegisterCrewAsync("C-12");
        var li = await _api.ClientForAsync("customer-li");
        var kept = (await Json(await _customer.PostAsJsonAsync("/api/work-orders", new { kind = "OnSiteSurvey", description = "Pole leaning in front of building 5" }))).GetProperty("id").GetString();
        var duplicate = (await Json(await li.PostAsJsonAsync("/api/work-orders", new { kind = "OnSiteSurvey", description = "Pole leaning near building 5" }))).GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync($"/api/work-orders/{duplicate}/transitions", new { action = "merge", targetId = kept, note = "same pole" })).StatusCode);
        await Eventually.True(async () => (await _dispatcher.GetStringAsync($"/api/work-orders/{kept}/history")).Contains("DuplicateMerged", StringComparison.Ordinal), "the order kept knows of its duplicate");

        Assert.Equal(HttpStatusCode.OK, (await _customer.PostAsJsonAsync($"/api/work-orders/{kept}/transitions", new { action = "cancel", note = "never mind" })).StatusCode);

        await Eventually.True(async () => (await Json(await li.GetAsync($"/api/work-orders/{duplicate}"))).GetProperty("state").GetString() != "Merged", "the duplicate is reopened");
        var reopened = await Json(await _dispatcher.GetAsync($"/api/work-orders/{duplicate}"));
        Assert.True(reopened.GetProperty("state").GetString() is "Reopened" or "Dispatched", reopened.ToString());
        Assert.Equal(JsonValueKind.Null, reopened.GetProperty("mergedInto").ValueKind);
        Assert.Contains((await Json(await li.GetAsync("/api/work-orders"))).GetProperty("items").EnumerateArray(), o => o.GetProperty("id").GetString() == duplicate);
        Assert.Contains((await Json(await _dispatcher.GetAsync("/api/work-orders?region=R1"))).GetProperty("items").EnumerateArray(), o => o.GetProperty("id").GetString() == duplicate);
        Assert.Contains($"{kept}, which this request was merged into as a duplicate, was cancelled by customer:", await _dispatcher.GetStringAsync($"/api/work-orders/{duplicate}/history"));
    }

    /// <summary>The customer whose request others were merged into put it on hold from the app ("not home until 15:00"):
    /// the repair their neighbours wait on stopped, with its clocks. From the app it is refused, saying why; their own
    /// request without duplicates still can be held.</summary>
    [Fact]
    public async Task A_customer_cannot_hold_a_request_other_customers_requests_were_merged_into()
    {
        await ApiScenario.ImportTwoAreasAsync(_dispatcher);
        var li = await _api.ClientForAsync("customer-li");
        var kept = (await Json(await _customer.PostAsJsonAsync("/api/work-orders", new { kind = "OnSiteSurvey", description = "Pole leaning in front of building 5" }))).GetProperty("id").GetString();
        var duplicate = (await Json(await li.PostAsJsonAsync("/api/work-orders", new { kind = "OnSiteSurvey", description = "Pole leaning near building 5" }))).GetProperty("id").GetString();
        var own = (await Json(await _customer.PostAsJsonAsync("/api/work-orders", new { kind = "MeterVerification", description = "Meter runs fast" }))).GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync($"/api/work-orders/{duplicate}/transitions", new { action = "merge", targetId = kept })).StatusCode);
        await Eventually.True(async () => (await _dispatcher.GetStringAsync($"/api/work-orders/{kept}/history")).Contains("DuplicateMerged", StringComparison.Ordinal), "the order kept knows of its duplicate");

        var refused = await _customer.PostAsJsonAsync($"/api/work-orders/{kept}/transitions", new { action = "suspend", note = "not home until 15:00" });
        var held = await _customer.PostAsJsonAsync($"/api/work-orders/{own}/transitions", new { action = "suspend", note = "not home until 15:00" });

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("1 other customer request(s) merged into it", await refused.Content.ReadAsStringAsync());
        Assert.Equal(JsonValueKind.Null, (await Json(await _customer.GetAsync($"/api/work-orders/{kept}"))).GetProperty("suspendedAt").ValueKind);
        Assert.Equal(HttpStatusCode.OK, held.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync($"/api/work-orders/{kept}/transitions", new { action = "suspend", note = "customers agreed on 15:00" })).StatusCode);
    }

    [Fact]
    public async Task Two_orders_merged_into_each_other_at_the_same_instant_are_answered_at_once_and_never_both_merged()
    {
        await RegisterCrewAsync("C-12");
        for (var round = 0; round < 5; round++)
        {
            var (a, b) = ($"WO-X{round}A", $"WO-X{round}B");
            await _dispatcher.PostAsJsonAsync("/api/work-orders", Fault(a));
            await _dispatcher.PostAsJsonAsync("/api/work-orders", Fault(b));
            // Well inside the silo's 30 s call timeout: each merge's turn asks the other order while that one asks back.
            using var answeredSoon = new CancellationTokenSource(TimeSpan.FromSeconds(10));

            var answers = await Task.WhenAll(
                _dispatcher.PostAsJsonAsync($"/api/work-orders/{a}/transitions", new { action = "merge", targetId = b }, answeredSoon.Token),
                _dispatcher.PostAsJsonAsync($"/api/work-orders/{b}/transitions", new { action = "merge", targetId = a }, answeredSoon.Token));

            Assert.All(answers, answer => Assert.Contains(answer.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.Conflict }));
            Assert.Contains(answers, answer => answer.StatusCode == HttpStatusCode.Conflict);
            var states = new[] { a, b }.Select(id => _dispatcher.GetAsync($"/api/work-orders/{id}")).ToArray();
            var stored = await Task.WhenAll((await Task.WhenAll(states)).Select(Json));
            Assert.Contains(stored, order => order.GetProperty("state").GetString() != "Merged");
            for (var i = 0; i < 2; i++)
            {
                Assert.Equal(answers[i].StatusCode == HttpStatusCode.OK, stored[i].GetProperty("state").GetString() == "Merged");
            }
        }
    }

    [Fact]
    public async Task A_customer_trying_a_crews_action_is_told_it_is_the_crews()
    {
        await ApiScenario.ImportCustomerAsync(_dispatcher);
        var id = (await Json(await _customer.PostAsJsonAsync("/api/work-orders", new { kind = "Complaint", description = "Bill too high" }))).GetProperty("id").GetString();

        var response = await _customer.PostAsJsonAsync($"/api/work-orders/{id}/transitions", new { action = "accept" });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("A customer may cancel, suspend, resume; accept is for the crew on the order and dispatchers.", (await Json(response)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_customer_cannot_cancel_from_the_app_once_the_crew_is_on_site()
    {
        await ApiScenario.ImportCustomerAsync(_dispatcher);
        await RegisterCrewAsync("C-12");
        var created = await Json(await _customer.PostAsJsonAsync("/api/work-orders", new { kind = "FaultRepair", description = "No power in the kitchen" }));
        var id = created.GetProperty("id").GetString();
        Assert.Equal("C-12", created.GetProperty("crewId").GetString());
        foreach (var action in new[] { "accept", "en-route", "arrive" })
        {
            Assert.Equal(HttpStatusCode.OK, (await _crew.PostAsJsonAsync($"/api/work-orders/{id}/transitions", new { action, location = new { latitude = 20.0, longitude = 110.3 } })).StatusCode);
        }

        var response = await _customer.PostAsJsonAsync($"/api/work-orders/{id}/transitions", new { action = "cancel", note = "fixed it myself" });

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("the crew is on site", (await Json(response)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("OnSite", (await Json(await _customer.GetAsync($"/api/work-orders/{id}"))).GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.OK, (await _crew.PostAsJsonAsync($"/api/work-orders/{id}/transitions", new { action = "resolve", note = "loose neutral fixed" })).StatusCode);
    }

    [Fact]
    public async Task An_operator_watches_orders_and_is_told_so_when_it_tries_to_change_one()
    {
        await RegisterCrewAsync("C-12");
        await _dispatcher.PostAsJsonAsync("/api/work-orders", Fault("WO-OP"));
        var operatorClient = await _api.ClientForAsync("operator-zhao");

        var response = await operatorClient.PostAsJsonAsync("/api/work-orders/WO-OP/transitions", new { action = "cancel" });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("An operator watches orders and changes none; cancel is for dispatchers.", (await Json(response)).GetProperty("detail").GetString());
        Assert.Equal("Dispatched", (await Json(await operatorClient.GetAsync("/api/work-orders/WO-OP"))).GetProperty("state").GetString());
    }

    [Theory]
    [InlineData("""{"id":"CR/../X","name":"n","region":"R1","skills":["LowVoltageRepair"],"capacity":1,"home":{"latitude":20,"longitude":110}}""", "id")]
    [InlineData("""{"id":"CR 1","name":"n","region":"R1","skills":["LowVoltageRepair"],"capacity":1,"home":{"latitude":20,"longitude":110}}""", "id")]
    [InlineData("""{"id":"CR-1","name":"n","region":"R1","skills":["LowVoltageRepair"],"capacity":1,"home":{"latitude":20,"longitude":110},"shifts":[null]}""", "shifts[0]")]
    [InlineData("""{"id":"CR-1","name":"n","region":"R1","skills":[null],"capacity":1,"home":{"latitude":20,"longitude":110}}""", "skills[0]")]
    // A bidi override shows the name reversed on every screen: "\u202Egnp.exe" reads "exe.png".
    [InlineData("""{"id":"CR-1","name":"\u202Egnp.exe","region":"R1","skills":["LowVoltageRepair"],"capacity":1,"home":{"latitude":20,"longitude":110}}""", "name")]
    public async Task A_crew_that_could_not_be_reached_or_read_is_not_registered_and_the_400_names_the_field(string json, string field)
    {
        var response = await _dispatcher.PostAsync("/api/crews", new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, (await Json(response)).GetProperty("field").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _dispatcher.GetAsync("/api/crews/CR-1")).StatusCode);
    }

    [Fact]
    public async Task A_null_slot_is_a_400_naming_it_and_no_slot_is_published()
    {
        await RegisterCrewAsync("C-12");
        var start = DateTimeOffset.UtcNow.AddDays(1);

        var response = await _crew.PostAsJsonAsync("/api/crews/C-12/slots", new { slots = new object?[] { new { start, end = start.AddHours(2), capacity = 1 }, null } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("slots[1]", (await Json(response)).GetProperty("field").GetString());
        Assert.Empty((await Json(await _crew.GetAsync("/api/crews/C-12/slots"))).EnumerateArray());
    }

    /// <summary>The customer says they are not home until 15:00 while a crew has the order offered, not yet accepted: the
    /// offer stood, and the crew could accept it and drive to an empty house (its PDA said "on hold since …"). The hold
    /// takes the offer back; the crew's list lets it go; when the hold ends it is offered again.</summary>
    [Fact]
    public async Task A_hold_takes_back_an_offer_not_yet_accepted_and_the_order_is_offered_again_when_it_ends()
    {
        await RegisterCrewAsync("C-12");
        var offered = await Json(await _dispatcher.PostAsJsonAsync("/api/work-orders", Fault("WO-HOLD")));
        Assert.Equal(("Dispatched", "C-12"), (offered.GetProperty("state").GetString(), offered.GetProperty("crewId").GetString()));

        var held = await Json(await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-HOLD/transitions", new { action = "suspend", note = "customer not home until 15:00" }));

        Assert.Equal(("Created", JsonValueKind.Null), (held.GetProperty("state").GetString(), held.GetProperty("crewId").ValueKind));
        await Eventually.True(async () => !(await _crew.GetStringAsync("/api/work-orders")).Contains("WO-HOLD", StringComparison.Ordinal), "the crew's list lets it go");
        Assert.Contains("OfferWithdrawn", await _dispatcher.GetStringAsync("/api/work-orders/WO-HOLD/history"));
        var late = (await _crew.PostAsJsonAsync("/api/work-orders/WO-HOLD/transitions", new { action = "accept" })).StatusCode;
        Assert.True(late is HttpStatusCode.NotFound, $"a late accept is refused as for an order no longer the crew's: {late}");

        var resumed = await Json(await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-HOLD/transitions", new { action = "resume" }));
        Assert.Equal(("Dispatched", "C-12"), (resumed.GetProperty("state").GetString(), resumed.GetProperty("crewId").GetString()));
    }

    /// <summary>One dispatcher cancels an order (a duplicate, they think) a moment after another assigned it to a crew:
    /// the cancel carried no version and silently undid the assignment (13 of 20 such races). With the version the
    /// canceller decided on, as the console sends it, it is a 409 naming what changed; without, it applies as before.</summary>
    [Fact]
    public async Task A_cancel_on_the_version_the_dispatcher_saw_is_refused_when_another_dispatcher_assigned_it_meanwhile()
    {
        await RegisterCrewAsync("C-12", latitude: 20.3);
        await RegisterCrewAsync("C-77", latitude: 20.0);
        var seen = await Json(await _dispatcher.PostAsJsonAsync("/api/work-orders", Fault("WO-VC")));
        var target = seen.GetProperty("crewId").GetString() == "C-77" ? "C-12" : "C-77";
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-VC/assign", new { crewId = target })).StatusCode);

        var cancel = await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-VC/transitions", new { action = "cancel", note = "duplicate", version = seen.GetProperty("version").GetInt32() });

        Assert.Equal(HttpStatusCode.Conflict, cancel.StatusCode);
        Assert.Contains($"Dispatched with crew '{target}'", (await Json(cancel)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        var order = await Json(await _dispatcher.GetAsync("/api/work-orders/WO-VC"));
        Assert.Equal(("Dispatched", target), (order.GetProperty("state").GetString(), order.GetProperty("crewId").GetString()));
        Assert.Equal("version", (await Json(await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-VC/transitions", new { action = "cancel", version = 0 }))).GetProperty("field").GetString());
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-VC/transitions", new { action = "cancel", note = "duplicate after all" })).StatusCode);
    }

    /// <summary>A dispatcher assigns an order to a crew at the moment it goes off shift: the assignment checked a crew on
    /// shift, going off shift handed back only the offers already on its list, and the order sat offered to a crew on its
    /// break until the offer lapsed five minutes later (18 of 20 such races). Whichever comes first, the order ends
    /// back in dispatch or with another crew, never offered to a crew off shift.</summary>
    [Fact]
    public async Task An_order_assigned_as_its_crew_goes_off_shift_goes_back_to_dispatch_at_once()
    {
        await RegisterCrewAsync("C-12", latitude: 20.3);
        await RegisterCrewAsync("C-77", latitude: 20.0);
        for (var round = 0; round < 8; round++)
        {
            var id = $"WO-OFF{round}";
            var created = await Json(await _dispatcher.PostAsJsonAsync("/api/work-orders", Fault(id)));
            var target = created.GetProperty("crewId").GetString() == "C-77" ? "C-12" : "C-77";

            await Task.WhenAll(
                _dispatcher.PostAsJsonAsync($"/api/work-orders/{id}/assign", new { crewId = target, version = created.GetProperty("version").GetInt32() }),
                _dispatcher.PostAsJsonAsync($"/api/crews/{target}/status", new { status = "OffShift" }));

            await Eventually.True(async () =>
            {
                var order = await Json(await _dispatcher.GetAsync($"/api/work-orders/{id}"));
                return !(order.GetProperty("state").GetString() == "Dispatched" && order.GetProperty("crewId").GetString() == target);
            }, $"round {round}: {id} is not left offered to {target}, off shift");
            Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync($"/api/crews/{target}/status", new { status = "Available" })).StatusCode);
        }
    }

    [Fact]
    public async Task A_crew_reports_its_location_and_status_but_cannot_touch_another_crew()
    {
        await RegisterCrewAsync("C-12");
        await RegisterCrewAsync("C-77");

        var moved = await _crew.PostAsJsonAsync("/api/crews/C-12/location", new { latitude = 20.1, longitude = 110.4 });
        var offShift = await _crew.PostAsJsonAsync("/api/crews/C-12/status", new { status = "OffShift" });

        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        Assert.Equal(20.1, (await Json(moved)).GetProperty("location").GetProperty("latitude").GetDouble());
        Assert.Equal("OffShift", (await Json(offShift)).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _crew.PostAsJsonAsync("/api/crews/C-77/location", new { latitude = 20.1, longitude = 110.4 })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _crew.GetAsync("/api/crews/C-77")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await _crew.PostAsJsonAsync("/api/crews/C-12/status", new { status = "asleep" })).StatusCode);
    }

    [Theory]
    [InlineData("""{"latitude":91,"longitude":110.4}""", "latitude", "latitude must be a number of degrees from -90 to 90.")]
    [InlineData("""{"latitude":20.1,"longitude":-180.5}""", "longitude", "longitude must be a number of degrees from -180 to 180.")]
    [InlineData("""{"latitude":20.1}""", "longitude", "longitude is required (degrees, -180 to 180).")]
    [InlineData("""{"latitude":"north","longitude":110.4}""", "latitude", null)]
    [InlineData("""{"latitude":0,"longitude":0}""", "location", "0, 0 is what a GPS without a fix reports, not the crew's position.")]
    public async Task A_location_report_off_the_globe_is_refused_naming_the_coordinate_and_the_crew_stays_where_it_was(string body, string field, string? detail)
    {
        await RegisterCrewAsync("C-12");
        var before = (await Json(await _crew.GetAsync("/api/crews/C-12"))).GetProperty("location").GetRawText();

        var response = await _crew.PostAsync("/api/crews/C-12/location", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await Json(response);
        Assert.Equal(field, problem.GetProperty("field").GetString());
        if (detail is not null)
        {
            Assert.Equal(detail, problem.GetProperty("detail").GetString());
        }
        Assert.Equal(before, (await Json(await _crew.GetAsync("/api/crews/C-12"))).GetProperty("location").GetRawText());
    }

    [Fact]
    public async Task A_body_over_1_MB_is_refused_with_413()
    {
        var huge = new string('x', 2 << 20);

        var response = await _dispatcher.PostAsJsonAsync("/api/work-orders", new { kind = "FaultRepair", description = huge, region = "R1" });

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_topology_file_imports_through_the_API_and_a_bad_file_is_a_400_listing_lines_and_columns()
    {
        var customers = await ImportCustomerAsync();

        var bad = await _dispatcher.PostAsync("/api/import/meters", new StringContent("meter_id,area_id,latitude,longitude\nM-2,TA-1,20.0,110.3\nM-3,TA-404,20.0,110.3\n", System.Text.Encoding.UTF8, "text/csv"));
        var unknownKind = await _dispatcher.PostAsync("/api/import/substations", new StringContent("x", System.Text.Encoding.UTF8, "text/csv"));
        var asCrew = await _crew.PostAsync("/api/import/meters", new StringContent("x", System.Text.Encoding.UTF8, "text/csv"));
        // curl's default (form data), as a GIS script sent it: the 415 says what to send.
        var asForm = await _dispatcher.PostAsync("/api/import/meters", new StringContent("meter_id,area_id,latitude,longitude\n", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"));

        Assert.Equal(1, customers.GetProperty("inserted").GetInt64());
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var error = (await Json(bad)).GetProperty("errors")[0];
        Assert.Equal(3, error.GetProperty("line").GetInt32());
        Assert.Equal("area_id", error.GetProperty("column").GetString());
        Assert.Equal(HttpStatusCode.NotFound, unknownKind.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, asCrew.StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, asForm.StatusCode);
        Assert.Contains("Content-Type: text/csv", (await Json(asForm)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        // Nothing from the bad file: M-2 (a good row) was not imported either, so a repeat of the good file inserts it.
        Assert.Equal(1, (await ImportAsync("meters", "meter_id,area_id,latitude,longitude\nM-1,TA-1,20.0,110.3\nM-2,TA-1,20.0,110.3\n")).GetProperty("inserted").GetInt64());
    }

    /// <summary>A customer put on an area's supply meter (台区总表, which measures the transformer) was accepted and then
    /// left out of the area's customers: no outage counted them, no planned-outage notice reached them.</summary>
    [Fact]
    public async Task A_customer_on_an_areas_supply_meter_is_refused_by_line_and_column_from_either_file()
    {
        await ImportCustomerAsync();
        await ImportAsync("meters", "meter_id,area_id,latitude,longitude,role\nSM-1,TA-1,20.0,110.3,supply\n");

        var bad = await _dispatcher.PostAsync("/api/import/customers", new StringContent(
            "customer_id,name,phone,meter_id,importance,area_class,latitude,longitude\nCU-0002,Li Lei,13900000002,M-1,ordinary,urban,20.0,110.3\nCU-0003,Zhao Min,13900000003,SM-1,ordinary,urban,20.0,110.3\n",
            Encoding.UTF8, "text/csv"));

        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var error = Assert.Single((await Json(bad)).GetProperty("errors").EnumerateArray());
        Assert.Equal((3, "meter_id"), (error.GetProperty("line").GetInt32(), error.GetProperty("column").GetString()));
        Assert.Contains("supply meter", error.GetProperty("message").GetString(), StringComparison.Ordinal);

        // Nor may a meters file make a customer's meter its area's supply meter (M-1 is Wang Fang's).
        var swapped = await _dispatcher.PostAsync("/api/import/meters", new StringContent(
            "meter_id,area_id,latitude,longitude,role\nSM-1,TA-1,20.0,110.3,customer\nM-1,TA-1,20.0,110.3,supply\n", Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.BadRequest, swapped.StatusCode);
        var refused = Assert.Single((await Json(swapped)).GetProperty("errors").EnumerateArray());
        Assert.Equal((3, "role"), (refused.GetProperty("line").GetInt32(), refused.GetProperty("column").GetString()));
        Assert.Contains("has customer 'CU-0001' on it", refused.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    /// <summary>The PDA's list: the orders its crew holds, in full; another crew's list is a 404, as its grain is.</summary>
    [Fact]
    public async Task A_crew_reads_the_orders_it_holds_in_full_and_not_another_crews()
    {
        await RegisterCrewAsync("C-12");
        await RegisterCrewAsync("C-13", latitude: 20.5);
        await _dispatcher.PostAsJsonAsync("/api/work-orders", Fault("WO-1"));

        var own = await Json(await _crew.GetAsync("/api/crews/C-12/orders"));
        var other = await _crew.GetAsync("/api/crews/C-13/orders");

        var order = Assert.Single(own.EnumerateArray());
        Assert.Equal(("WO-1", "No power since the storm"), (order.GetProperty("id").GetString(), order.GetProperty("description").GetString()));
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        Assert.Empty((await Json(await _dispatcher.GetAsync("/api/crews/C-13/orders"))).EnumerateArray());
    }

    /// <summary>A dispatcher's script asked for <c>?status=Open</c> and got every order, silently: a query parameter the
    /// endpoint does not take is a 400 naming it and the ones it takes.</summary>
    [Fact]
    public async Task A_query_parameter_the_list_does_not_take_is_a_400_naming_it_and_the_ones_it_takes()
    {
        var response = await _dispatcher.GetAsync("/api/work-orders?status=Dispatched");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await Json(response);
        Assert.Equal("status", problem.GetProperty("field").GetString());
        Assert.Equal("'status' is not a query parameter of this endpoint; it takes state, kind, region, limit, continuationToken.",
            problem.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.GetAsync("/api/work-orders?STATE=Dispatched&Region=R1")).StatusCode);
    }

    /// <summary>One answer lists every problem of a file: the region not its feeder's on line 2 came only once the
    /// invisible character on line 3 was fixed, and the GIS team fixed the file twice.</summary>
    [Fact]
    public async Task A_bad_areas_file_lists_its_reference_problems_with_its_row_problems_at_once()
    {
        await ImportCustomerAsync(); // F-1 in R1, G-1
        var bad = await _dispatcher.PostAsync("/api/import/transformer-areas", new StringContent(
            "area_id,name,feeder_id,grid_id,region,area_class,latitude,longitude,capacity_kva\nTA-9,Meilan 1-9,F-1,G-1,R2,urban,20.0,110.3,400\nTA-10,Binhai 1-10,F-1,G-1,\u200BR1,urban,20.0,110.3,400\n",
            Encoding.UTF8, "text/csv"));

        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await Json(bad)).GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("line").GetInt32(), e.GetProperty("column").GetString())).ToList();
        Assert.Equal([(2, "region"), (3, "region")], errors);
    }

    /// <summary>The GIS team moves feeder F-1 to district R2: its area follows (an area is served in its feeder's region),
    /// so the customer's next call is R2's, and the areas file says R2 from then on. Before, the areas kept R1 and the
    /// areas file could not change them (refused while the feeder was in R1, and after it moved, refused for R2).</summary>
    [Fact]
    public async Task A_feeder_moved_to_another_region_takes_its_areas_along_and_says_so()
    {
        await ImportCustomerAsync(); // F-1, TA-1 in R1
        const string FeederHeader = "feeder_id,name,substation_id,substation_name,region";
        const string AreaHeader = "area_id,name,feeder_id,grid_id,region,area_class,latitude,longitude,capacity_kva";

        var moved = await ImportAsync("feeders", $"{FeederHeader}\nF-1,Binhai 1,S-1,Binhai,R2\n");

        Assert.Equal(1, moved.GetProperty("updated").GetInt64());
        Assert.Equal("1 transformer area(s) moved with their feeder to its region", Assert.Single(moved.GetProperty("notes").EnumerateArray()).GetString());
        var order = await Json(await _dispatcher.PostAsJsonAsync("/api/work-orders", new { id = "WO-R2", kind = "FaultRepair", description = "No power", customerId = "CU-0001" }));
        Assert.Equal("R2", order.GetProperty("region").GetString());
        Assert.Equal(1, (await ImportAsync("transformer-areas", $"{AreaHeader}\nTA-1,Binhai 1-1,F-1,G-1,R2,urban,20.0,110.3,400\n")).GetProperty("unchanged").GetInt64());
        var stale = await _dispatcher.PostAsync("/api/import/transformer-areas", new StringContent(
            $"{AreaHeader}\nTA-1,Binhai 1-1,F-1,G-1,R1,urban,20.0,110.3,400\n", Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.BadRequest, stale.StatusCode);
        Assert.Empty((await ImportAsync("feeders", $"{FeederHeader}\nF-1,Binhai 1,S-1,Binhai,R2\n")).GetProperty("notes").EnumerateArray());
    }

    /// <summary>A region is named as the API and the dispatch hub take it (at most 64 characters, one line, nothing
    /// invisible, not "*"), or its orders and crews could never be listed or watched; an id or a name that shows as
    /// something else is refused too. Each a 400 naming line and column; nothing from the file is imported.</summary>
    [Theory]
    [InlineData("feeders", "feeder_id,name,substation_id,substation_name,region", "F-9,Binhai 9,S-1,Binhai,R1", "F-10,Binhai 10,S-1,Binhai,{65 characters}", "region", "is longer than 64 characters")]
    [InlineData("grids", "grid_id,name,region,manager_name,manager_phone", "G-9,Binhai grid 9,R1,Chen Jie,13800000001", "G-10,Binhai grid 10,\"R1\nforged line\",Chen Jie,13800000001", "region", "contains the control character U+000A; it takes one line of plain text")]
    [InlineData("transformer-areas", "area_id,name,feeder_id,grid_id,region,area_class,latitude,longitude,capacity_kva", "TA-9,Binhai 1-9,F-1,G-1,R1,urban,20.0,110.3,400", "TA-10,Binhai 1-10,F-1,G-1,*,urban,20.0,110.3,400", "region", "'*' means every region and cannot name one")]
    [InlineData("crews", "crew_id,name,region,skills,capacity,home_latitude,home_longitude,shift_start,shift_end", "CR-9,Crew 9,R1,LowVoltageRepair,3,20.0,110.3,08:00,20:00", "CR-10,Crew 10,\u200BR1,LowVoltageRepair,3,20.0,110.3,08:00,20:00", "region", "contains U+200B, which shows as nothing or as another character")]
    [InlineData("crews", "crew_id,name,region,skills,capacity,home_latitude,home_longitude,shift_start,shift_end", "CR-9,Crew 9,R1,LowVoltageRepair,3,20.0,110.3,08:00,20:00", "CR-10,Crew 10,R1\uFE0F,LowVoltageRepair,3,20.0,110.3,08:00,20:00", "region", "contains U+FE0F, which shows as nothing or as another character")]
    [InlineData("feeders", "feeder_id,name,substation_id,substation_name,region", "F-9,Binhai 9,S-1,Binhai,R1", "\u200BF-10,Binhai 10,S-1,Binhai,R1", "feeder_id", "contains the invisible format character U+200B")]
    [InlineData("feeders", "feeder_id,name,substation_id,substation_name,region", "F-9,Binhai 9,S-1,Binhai,R1", "F-10,\u202Egnp.exe,S-1,Binhai,R1", "name", "contains the control character U+202E")]
    // An area on another region's feeder was counted served in one region and interrupted in the other.
    [InlineData("transformer-areas", "area_id,name,feeder_id,grid_id,region,area_class,latitude,longitude,capacity_kva", "TA-9,Binhai 1-9,F-1,G-1,R1,urban,20.0,110.3,400", "TA-10,Meilan 1-10,F-1,G-1,R2,urban,20.0,110.3,400", "region", "is not the region of feeder 'F-1' ('R1')")]
    public async Task A_region_id_or_name_that_would_show_as_another_is_refused_by_line_and_column_and_nothing_is_imported(
        string kind, string header, string goodRow, string badRow, string column, string message)
    {
        await ImportCustomerAsync(); // F-1 and G-1, the new area's parents
        var csv = $"{header}\n{goodRow}\n{badRow.Replace("{65 characters}", new string('R', 65), StringComparison.Ordinal)}\n";

        var bad = await _dispatcher.PostAsync($"/api/import/{kind}", new StringContent(csv, Encoding.UTF8, "text/csv"));

        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var error = Assert.Single((await Json(bad)).GetProperty("errors").EnumerateArray());
        Assert.Equal((3, column), (error.GetProperty("line").GetInt32(), error.GetProperty("column").GetString()));
        Assert.Contains(message, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        // The good row was not imported either: the good file alone inserts it.
        Assert.Equal(1, (await ImportAsync(kind, $"{header}\n{goodRow}\n")).GetProperty("inserted").GetInt64());
    }

    /// <summary>The point of the rule: a region as long as the API takes imports, and its orders and crews are listed by
    /// it. A name keeps its joiners (a woman and a wrench joined by U+200D show as one mechanic).</summary>
    [Fact]
    public async Task A_region_of_64_characters_imports_and_its_orders_and_crews_are_listed_by_it()
    {
        var region = string.Concat(Enumerable.Repeat("海口龙华", 16));
        await ImportAsync("feeders", $"feeder_id,name,substation_id,substation_name,region\nF-1,Binhai 1,S-1,Binhai,{region}\n");
        await ImportAsync("grids", $"grid_id,name,region,manager_name,manager_phone\nG-1,Binhai grid,{region},Chen Jie,13800000001\n");
        await ImportAsync("transformer-areas", $"area_id,name,feeder_id,grid_id,region,area_class,latitude,longitude,capacity_kva\nTA-1,Binhai 1-1,F-1,G-1,{region},urban,20.0,110.3,400\n");
        await ImportAsync("meters", "meter_id,area_id,latitude,longitude\nM-1,TA-1,20.0,110.3\n");
        await ImportAsync("customers", "customer_id,name,phone,meter_id,importance,area_class,latitude,longitude\nCU-0001,Wang Fang,13900000001,M-1,ordinary,urban,20.0,110.3\n");
        await ImportAsync("crews", $"crew_id,name,region,skills,capacity,home_latitude,home_longitude,shift_start,shift_end\nCR-1,抢修1班 👩\u200D🔧,{region},Survey,3,20.0,110.3,08:00,20:00\n");

        var created = await _dispatcher.PostAsJsonAsync("/api/work-orders", new { id = "WO-64", kind = "FaultRepair", description = "No power", customerId = "CU-0001" });
        var orders = await Json(await _dispatcher.GetAsync($"/api/work-orders?region={Uri.EscapeDataString(region)}"));
        var crews = await Json(await _dispatcher.GetAsync($"/api/crews?region={Uri.EscapeDataString(region)}"));

        Assert.Equal(64, region.Length);
        Assert.Equal(region, (await Json(created)).GetProperty("region").GetString());
        Assert.Equal("WO-64", Assert.Single(orders.GetProperty("items").EnumerateArray()).GetProperty("id").GetString());
        var crew = Assert.Single(crews.EnumerateArray());
        Assert.Equal(("CR-1", "抢修1班 👩\u200D🔧"), (crew.GetProperty("id").GetString(), crew.GetProperty("profile").GetProperty("name").GetString()));
    }

    /// <summary>A crew or an order placed in "*" (every region to the hub, the system to the indicators) or in a region
    /// with an invisible character could never be watched or listed alone: a 400 naming <c>region</c>, nothing made.</summary>
    [Theory]
    [InlineData("/api/crews", """{"id":"CR-1","name":"n","region":"*","skills":["LowVoltageRepair"],"capacity":1,"home":{"latitude":20,"longitude":110}}""", "region '*' means every region and cannot name one.")]
    [InlineData("/api/crews", """{"id":"CR-1","name":"n","region":"\u200B海口龙华","skills":["LowVoltageRepair"],"capacity":1,"home":{"latitude":20,"longitude":110}}""", "region contains U+200B, which shows as nothing or as another character; a region's name is what a dispatcher sees and types.")]
    [InlineData("/api/crews", """{"id":"CR-1","name":"n","region":"海口龙华\uFE0F","skills":["LowVoltageRepair"],"capacity":1,"home":{"latitude":20,"longitude":110}}""", "region contains U+FE0F, which shows as nothing or as another character; a region's name is what a dispatcher sees and types.")]
    [InlineData("/api/crews", """{"id":"CR-1","name":"n","region":"海口龙华\u3164","skills":["LowVoltageRepair"],"capacity":1,"home":{"latitude":20,"longitude":110}}""", "region contains U+3164, which shows as nothing or as another character; a region's name is what a dispatcher sees and types.")]
    [InlineData("/api/crews", """{"id":"CR-1","name":"n","region":"海口\u2028龙华","skills":["LowVoltageRepair"],"capacity":1,"home":{"latitude":20,"longitude":110}}""", "region contains the control character U+2028; it takes one line of plain text.")]
    [InlineData("/api/work-orders", """{"id":"WO-1","kind":"FaultRepair","description":"x","region":"*","location":{"latitude":20,"longitude":110}}""", "region '*' means every region and cannot name one.")]
    [InlineData("/api/work-orders", """{"id":"WO-1","kind":"FaultRepair","description":"x","region":"R1\uFEFF","location":{"latitude":20,"longitude":110}}""", "region contains U+FEFF, which shows as nothing or as another character; a region's name is what a dispatcher sees and types.")]
    public async Task A_crew_or_order_placed_in_a_region_no_one_could_watch_is_a_400_naming_region_and_nothing_is_made(string path, string json, string detail)
    {
        var response = await _dispatcher.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await Json(response);
        Assert.Equal(("region", detail), (problem.GetProperty("field").GetString(), problem.GetProperty("detail").GetString()));
        var id = JsonDocument.Parse(json).RootElement.GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.NotFound, (await _dispatcher.GetAsync($"{path}/{id}")).StatusCode);
    }

    /// <summary>An id with an invisible character looks like one that exists: "not found" would send the dispatcher
    /// looking for the wrong fault, so it is a 400 saying which character, in a path as in a body.</summary>
    [Fact]
    public async Task An_id_with_an_invisible_character_is_a_400_naming_it_in_a_path_and_in_a_body()
    {
        await ImportCustomerAsync();
        await _dispatcher.PostAsJsonAsync("/api/work-orders", Fault("WO-3"));

        var inPath = await _dispatcher.GetAsync("/api/work-orders/%E2%80%8BWO-3");
        var inBody = await _dispatcher.PostAsJsonAsync("/api/work-orders", new { kind = "FaultRepair", description = "x", customerId = "CU-0001\u200D" });

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest), (inPath.StatusCode, inBody.StatusCode));
        var (path, body) = (await Json(inPath), await Json(inBody));
        Assert.Equal(
            ("id", "id contains the invisible format character U+200B; an id is ASCII letters, digits, '-' and '_' only."),
            (path.GetProperty("field").GetString(), path.GetProperty("detail").GetString()));
        Assert.Equal(
            ("customerId", "customerId contains the invisible format character U+200D; an id is ASCII letters, digits, '-' and '_' only."),
            (body.GetProperty("field").GetString(), body.GetProperty("detail").GetString()));
    }

    [Fact]
    public async Task A_customer_reports_a_fault_for_themself_and_follows_it_but_cannot_report_for_someone_else()
    {
        await ImportCustomerAsync();
        await RegisterCrewAsync("C-12");
        var own = await _customer.PostAsJsonAsync("/api/work-orders", new { kind = "FaultRepair", description = "No power since the storm" });
        var forOther = await _customer.PostAsJsonAsync("/api/work-orders", new { kind = "FaultRepair", description = "x", customerId = "CU-9999" });

        Assert.Equal(HttpStatusCode.BadRequest, forOther.StatusCode);
        Assert.Equal("customerId", (await Json(forOther)).GetProperty("field").GetString());
        Assert.Equal(HttpStatusCode.Created, own.StatusCode);
        var id = (await Json(own)).GetProperty("id").GetString();
        var stored = await Json(await _customer.GetAsync($"/api/work-orders/{id}"));
        Assert.Equal("App", stored.GetProperty("channel").GetString());
        Assert.Equal("Normal", stored.GetProperty("priority").GetString());
        // The supply is the customer's own, from the record.
        Assert.Equal("R1", stored.GetProperty("region").GetString());
        Assert.Equal("TA-1", stored.GetProperty("transformerAreaId").GetString());
        Assert.Equal(HttpStatusCode.Created, (await _customer.PostAsJsonAsync("/api/work-orders", new { kind = "Complaint", description = "x", channel = "WeChat" })).StatusCode);
        // The journal names staff and carries internal notes and the crew's positions: not the customer's to read.
        var journal = await _customer.GetAsync($"/api/work-orders/{id}/history");
        Assert.Equal(HttpStatusCode.Forbidden, journal.StatusCode);
        Assert.Contains("dispatcher", (await Json(journal)).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.GetAsync($"/api/work-orders/{id}/history")).StatusCode);
    }

    /// <summary>A customer may not choose what the service decides: an id (it could take one the service uses, such as an
    /// outage's repair order), the priority, or another supply than their own; nor speak as the hotline or a meter.</summary>
    [Theory]
    [InlineData("""{"id":"WO-OUT-TA-1-1","kind":"FaultRepair","description":"x"}""", "id")]
    [InlineData("""{"kind":"FaultRepair","description":"x","priority":"Emergency"}""", "priority")]
    [InlineData("""{"kind":"FaultRepair","description":"x","region":"R2"}""", "region")]
    [InlineData("""{"kind":"FaultRepair","description":"x","transformerAreaId":"TA-2"}""", "transformerAreaId")]
    [InlineData("""{"kind":"FaultRepair","description":"x","location":{"latitude":20.5,"longitude":110.1}}""", "location")]
    [InlineData("""{"kind":"FaultRepair","description":"x","areaClass":"Remote"}""", "areaClass")]
    [InlineData("""{"kind":"FaultRepair","description":"x","channel":"Meter"}""", "channel")]
    [InlineData("""{"kind":"FaultRepair","description":"x","channel":"Hotline95598"}""", "channel")]
    public async Task A_customer_cannot_set_what_the_service_decides_and_nothing_is_created(string json, string field)
    {
        await ImportCustomerAsync();

        var response = await _customer.PostAsync("/api/work-orders", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, (await Json(response)).GetProperty("field").GetString());
        Assert.Equal(0, (await Json(await _customer.GetAsync("/api/work-orders"))).GetProperty("items").GetArrayLength());
        Assert.Equal(HttpStatusCode.NotFound, (await _dispatcher.GetAsync("/api/work-orders/WO-OUT-TA-1-1")).StatusCode);
    }

    /// <summary>WO-OUT-{outage} is the id an outage gives its repair order: a hotline ticket created under it became an
    /// outage's repair when the area later went dark.</summary>
    [Theory]
    [InlineData("WO-OUT-TA-1-1")]
    [InlineData("wo-out-TA-1-1")]
    public async Task A_dispatcher_cannot_take_the_id_of_an_outages_repair_order(string id)
    {
        var response = await _dispatcher.PostAsJsonAsync("/api/work-orders", Fault(id));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("id", (await Json(response)).GetProperty("field").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await _dispatcher.GetAsync($"/api/work-orders/{id}")).StatusCode);
    }

    private Task<JsonElement> ImportAsync(string kind, string csv) => ApiScenario.ImportAsync(_dispatcher, kind, csv);

    private Task<JsonElement> ImportCustomerAsync() => ApiScenario.ImportCustomerAsync(_dispatcher);

    private Task RegisterCrewAsync(string id, double latitude = 20.01) => ApiScenario.RegisterCrewAsync(_dispatcher, id, latitude);

    /// <summary>The crew accepts, drives, arrives and resolves: the order waits for its callback.</summary>
    private async Task WorkedToItsCallbackAsync(string id)
    {
        foreach (var action in new[] { "accept", "en-route", "arrive", "resolve" })
        {
            Assert.Equal(HttpStatusCode.OK, (await _crew.PostAsJsonAsync($"/api/work-orders/{id}/transitions", new { action })).StatusCode);
        }
    }

    private static object Fault(string id) => new
    {
        id,
        kind = "FaultRepair",
        description = "No power since the storm",
        region = "R1",
        areaClass = "Urban",
        location = new { latitude = 20.0, longitude = 110.3 },
    };

    private static Task<JsonElement> Json(HttpResponseMessage response) => ApiScenario.JsonAsync(response);
}

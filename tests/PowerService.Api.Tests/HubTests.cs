using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PowerService.Api.Tests.Support;
using PowerService.TestSupport;

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
    public async Task One_customer_account_holds_five_live_connections_the_sixth_is_a_429_until_one_closes()
    {
        await ApiScenario.ImportCustomerAsync(await _api.ClientForAsync("dispatcher-li"));
        var customer = await _api.TokenForAsync("customer-wang");
        var hub = new Uri(_server, "/hubs/customer");
        var open = new List<SignalRConnection>();
        try
        {
            for (var i = 0; i < 5; i++)
            {
                open.Add(await SignalRConnection.ConnectAsync(hub, customer));
            }

            Assert.Equal(429, await SignalRConnection.RefusedStatusAsync(hub, customer));
            // Short requests of the hub (negotiation, an event-stream client's sends) take no place of their own.
            var http = new HttpClient { BaseAddress = _server };
            http.DefaultRequestHeaders.Authorization = new("Bearer", customer);
            Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("/hubs/customer/negotiate?negotiateVersion=1", null)).StatusCode);
            // Other accounts are not held up by that one, and staff accounts may hold more (consoles, tabs, PDAs).
            var dispatcher = await _api.TokenForAsync("dispatcher-li");
            for (var i = 0; i < 6; i++)
            {
                open.Add(await SignalRConnection.ConnectAsync(new Uri(_server, "/hubs/dispatch"), dispatcher));
            }

            await open[0].DisposeAsync();
            open.RemoveAt(0);
            await Eventually.True(async () => await SignalRConnection.RefusedStatusAsync(hub, customer) == 101, "a closed connection frees its place");
        }
        finally
        {
            foreach (var connection in open)
            {
                await connection.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task One_account_negotiating_in_a_loop_is_a_429_with_retry_after_past_30_in_10_seconds_and_others_go_on()
    {
        var customer = new HttpClient { BaseAddress = _server };
        customer.DefaultRequestHeaders.Authorization = new("Bearer", await _api.TokenForAsync("customer-wang"));
        var other = new HttpClient { BaseAddress = _server };
        other.DefaultRequestHeaders.Authorization = new("Bearer", await _api.TokenForAsync("customer-li"));
        var answers = new List<HttpStatusCode>();
        for (var i = 0; i < 31; i++)
        {
            answers.Add((await customer.PostAsync("/hubs/customer/negotiate?negotiateVersion=1", null)).StatusCode);
        }

        var refused = await customer.PostAsync("/hubs/customer/negotiate?negotiateVersion=1", null);

        Assert.Equal(30, answers.Count(a => a == HttpStatusCode.OK));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.NotNull(refused.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.OK, (await other.PostAsync("/hubs/customer/negotiate?negotiateVersion=1", null)).StatusCode);
    }

    [Fact]
    public async Task The_hubs_do_not_offer_long_polling_whose_connections_would_escape_the_per_account_cap()
    {
        var customer = new HttpClient { BaseAddress = _server };
        customer.DefaultRequestHeaders.Authorization = new("Bearer", await _api.TokenForAsync("customer-wang"));

        using var negotiated = JsonDocument.Parse(await (await customer.PostAsync("/hubs/customer/negotiate?negotiateVersion=1", null)).Content.ReadAsStringAsync());

        var transports = negotiated.RootElement.GetProperty("availableTransports").EnumerateArray().Select(t => t.GetProperty("transport").GetString()).ToList();
        Assert.Contains("WebSockets", transports);
        Assert.DoesNotContain("LongPolling", transports);
    }

    [Fact]
    public void The_silo_refuses_connections_before_it_runs_out_of_file_descriptors()
    {
        var limits = _api.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>>().Value.Limits;
        var files = File.ReadLines("/proc/self/limits").Single(l => l.StartsWith("Max open files", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[3];

        Assert.NotNull(limits.MaxConcurrentConnections);
        Assert.NotNull(limits.MaxConcurrentUpgradedConnections);
        Assert.True(limits.MaxConcurrentConnections + limits.MaxConcurrentUpgradedConnections < long.Parse(files, System.Globalization.CultureInfo.InvariantCulture),
            $"{limits.MaxConcurrentConnections} + {limits.MaxConcurrentUpgradedConnections} connections within {files} descriptors");
    }

    [Fact]
    public async Task An_operator_on_the_monitor_hub_sees_the_grain_calls_the_silo_makes()
    {
        GC.Collect(); // a full collection, so the live heap it left is known (the silo runs in this process)
        await using var monitor = await SignalRConnection.ConnectAsync(new Uri(_server, "/hubs/monitor"), await _api.TokenForAsync("operator-zhao"));
        var dispatcher = await _api.ClientForAsync("dispatcher-li");
        await RegisterCrewAsync(dispatcher); // an activation that stays
        var created = await dispatcher.PostAsJsonAsync("/api/work-orders", new
        {
            id = "WO-MON-1", kind = "FaultRepair", description = "Meter box burnt", region = "R1",
            location = new { latitude = 20.0, longitude = 110.3 },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var load = new CancellationTokenSource();
        var traffic = Task.Run(async () =>
        {
            while (!load.IsCancellationRequested)
            {
                await dispatcher.GetAsync("/api/work-orders/WO-nothing-here");
                // A callback on an order that is not waiting for one: the grain refuses it (409), nothing failed.
                var refused = await dispatcher.PostAsJsonAsync("/api/work-orders/WO-MON-1/callback", new { outcome = "Satisfied" });
                Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            }
        });

        // The first snapshots may show only the crew's registration; wait for one with the traffic's calls and their
        // latency (a sample of calls is timed), and the refused callbacks.
        JsonElement snapshot;
        JsonElement? get;
        JsonElement? callback;
        var snapshots = 0;
        do
        {
            Assert.True(++snapshots <= 15, "No snapshot in 15 s showed the WorkOrderGrain.Get calls the test made with their latency, and the refused callbacks.");
            snapshot = (await monitor.NextInvocationAsync("stats", TimeSpan.FromSeconds(10)))[0];
            get = Method(snapshot, "WorkOrderGrain.Get");
            callback = Method(snapshot, "WorkOrderGrain.RecordCallback");
        }
        while (get is not { } method || method.GetProperty("latencyP50Ms").ValueKind != JsonValueKind.Number || snapshot.GetProperty("callLatencyP50Ms").GetDouble() <= 0
            || callback is not { } refusals || refusals.GetProperty("refusalsPerSecond").GetDouble() <= 0);
        await load.CancelAsync();
        await traffic;

        // A refusal is an answer, not a fault: the operator's error rate stays at zero while the refusals show apart.
        Assert.Equal(0, callback.Value.GetProperty("errorsPerSecond").GetDouble());
        Assert.True(snapshot.GetProperty("refusalsPerSecond").GetDouble() > 0);
        Assert.Equal(0, snapshot.GetProperty("errorsPerSecond").GetDouble());

        // By type and method: the calls the traffic made, and how long they took.
        Assert.True(get.Value.GetProperty("callsPerSecond").GetDouble() > 0);
        Assert.True(get.Value.GetProperty("latencyP50Ms").GetDouble() > 0);
        Assert.True(get.Value.GetProperty("latencyP99Ms").GetDouble() >= get.Value.GetProperty("latencyP50Ms").GetDouble());
        Assert.True(snapshot.GetProperty("callsPerSecond").GetDouble() > 0);
        Assert.True(snapshot.GetProperty("activations").GetInt32() > 0);
        Assert.True(snapshot.GetProperty("workingSetBytes").GetInt64() > 0);
        Assert.InRange(snapshot.GetProperty("liveHeapBytes").GetInt64(), 1, snapshot.GetProperty("workingSetBytes").GetInt64());
        Assert.True(snapshot.GetProperty("callLatencyP99Ms").GetDouble() >= snapshot.GetProperty("callLatencyP50Ms").GetDouble());
    }

    [Fact]
    public async Task A_new_order_reaches_the_dispatcher_watching_its_region_and_the_PDA_of_the_crew_it_is_dispatched_to()
    {
        var dispatcher = await _api.ClientForAsync("dispatcher-li");
        await RegisterCrewAsync(dispatcher);
        await using var console = await SignalRConnection.ConnectAsync(new Uri(_server, "/hubs/dispatch"), await _api.TokenForAsync("dispatcher-li"));
        await console.InvokeAsync("Watch", "R1");
        await using var pda = await SignalRConnection.ConnectAsync(new Uri(_server, "/hubs/crew"), await _api.TokenForAsync("crew-c12"));

        var created = await dispatcher.PostAsJsonAsync("/api/work-orders", new
        {
            id = "WO-LIVE-1", kind = "FaultRepair", description = "Line down on Binhai Road", region = "R1",
            location = new { latitude = 20.0, longitude = 110.3 },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        var seen = await NextOrderAsync(console, "WO-LIVE-1", "Dispatched");
        var pushed = await NextOrderAsync(pda, "WO-LIVE-1", "Dispatched");
        Assert.Equal("C-12", seen.GetProperty("order").GetProperty("crewId").GetString());
        Assert.Contains("Dispatched", seen.GetProperty("events").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("C-12", pushed.GetProperty("order").GetProperty("crewId").GetString());
        // The console gets its list row (with the due promise), the PDA the whole order (what to fix, and where).
        Assert.Equal("Arrival", seen.GetProperty("order").GetProperty("due").GetProperty("clock").GetString());
        Assert.False(seen.GetProperty("order").TryGetProperty("description", out _));
        Assert.Equal("Line down on Binhai Road", pushed.GetProperty("order").GetProperty("description").GetString());
    }

    [Fact]
    public async Task A_console_that_stopped_reading_does_not_hold_back_the_other_consoles_of_its_region()
    {
        // The sleeping console's sends wait once it is some 50 KB behind, and it is not dropped during the test.
        await using var api = new ApiFactory().With("Api:HubSendBuffer", "16384").With("Api:HubSendTimeout", "00:02:00").WithSocketSendBuffer(16384);
        var server = api.StartKestrel();
        var dispatcher = await api.ClientForAsync("dispatcher-li");
        await ApiScenario.ServeRegionsAsync(dispatcher, "R1");
        var token = await api.TokenForAsync("dispatcher-li");
        await using var asleep = await SignalRConnection.ConnectAsync(new Uri(server, "/hubs/dispatch"), token, receiveBufferBytes: 4096);
        await asleep.InvokeAsync("Watch", "R1");
        asleep.StopReading(); // a laptop lid closed on a console: the connection stays open, nothing is read
        // A busy region: enough rows to fill the sleeping console's socket and its 16 KB on the server.
        for (var batch = 0; batch < 20; batch++)
        {
            await Task.WhenAll(Enumerable.Range(0, 20).Select(i => dispatcher.PostAsJsonAsync("/api/work-orders", NewOrder($"WO-BUSY-{batch}-{i}"))));
        }
        await using var awake = await SignalRConnection.ConnectAsync(new Uri(server, "/hubs/dispatch"), token);
        await awake.InvokeAsync("Watch", "R1");

        // One order after another, each waited for on the awake console: the feed reads a page per order.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.Created, (await dispatcher.PostAsJsonAsync("/api/work-orders", NewOrder($"WO-AWAKE-{i}"))).StatusCode);
            await NextOrderAsync(awake, $"WO-AWAKE-{i}", "Created");
        }

        // Waiting for the sleeping console's sends, the feed took at least 500 ms a page: 20 orders in 10 s and more.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(6), $"20 orders reached the awake console in {clock.Elapsed.TotalSeconds:0.0} s");
        static object NewOrder(string id) => new { id, kind = "FaultRepair", description = "No power", region = "R1", location = new { latitude = 20.0, longitude = 110.3 } };
    }

    [Fact]
    public async Task A_crew_whose_order_a_dispatcher_gives_to_another_crew_hears_it_on_its_PDA()
    {
        var dispatcher = await _api.ClientForAsync("dispatcher-li");
        await RegisterCrewAsync(dispatcher);
        await ApiScenario.RegisterCrewAsync(dispatcher, "C-13", latitude: 20.5);
        await using var pda = await SignalRConnection.ConnectAsync(new Uri(_server, "/hubs/crew"), await _api.TokenForAsync("crew-c12"));
        await dispatcher.PostAsJsonAsync("/api/work-orders", new
        {
            id = "WO-MOVE-1", kind = "FaultRepair", description = "Line down on Binhai Road", region = "R1",
            location = new { latitude = 20.0, longitude = 110.3 },
        });
        Assert.Equal("C-12", (await NextOrderAsync(pda, "WO-MOVE-1", "Dispatched")).GetProperty("order").GetProperty("crewId").GetString());

        Assert.Equal(HttpStatusCode.OK, (await dispatcher.PostAsJsonAsync("/api/work-orders/WO-MOVE-1/assign", new { crewId = "C-13" })).StatusCode);

        // The PDA shows only its own crew's orders: the order naming C-13 leaves C-12's list.
        var moved = await NextOrderAsync(pda, "WO-MOVE-1", "Dispatched", crewId: "C-13");
        Assert.Equal("C-13", moved.GetProperty("order").GetProperty("crewId").GetString());
    }

    [Fact]
    public async Task A_hub_connection_ends_with_the_token_it_was_opened_with()
    {
        await using var api = new ApiFactory().With("Auth:TokenLifetime", "00:00:03");
        var server = api.StartKestrel();
        await RegisterCrewAsync(await api.ClientForAsync("dispatcher-li"));
        await using var pda = await SignalRConnection.ConnectAsync(new Uri(server, "/hubs/crew"), await api.TokenForAsync("crew-c12"));
        Assert.Equal("Available", (await pda.CallAsync("SetStatus", "Available")).GetProperty("status").GetString());

        // Past its token's end the PDA must sign in again; its open connection does not outlive the token.
        Assert.True(await pda.ClosedByServerAsync(TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task A_dispatcher_watching_one_region_hears_how_an_import_progresses()
    {
        await using var console = await SignalRConnection.ConnectAsync(new Uri(_server, "/hubs/dispatch"), await _api.TokenForAsync("dispatcher-li"));
        await console.InvokeAsync("Watch", "R1");

        await ApiScenario.ImportAsync(await _api.ClientForAsync("dispatcher-li"), "feeders", "feeder_id,name,substation_id,substation_name,region\nF-1,Binhai 1,S-1,Binhai,R1\n");

        JsonElement progress;
        var stages = new List<string>();
        do
        {
            progress = (await console.NextInvocationAsync("importProgress", TimeSpan.FromSeconds(10)))[0];
            stages.Add(progress.GetProperty("stage").GetString()!);
        }
        while (!progress.GetProperty("completed").GetBoolean());
        // The upload is told as it comes in (a big file took 11 s to upload before any count reached the others).
        Assert.Equal("uploading", stages[0]);
        Assert.Equal("importing", stages[^1]);
        Assert.Equal("feeders", progress.GetProperty("kind").GetString());
        Assert.Equal(1, progress.GetProperty("rows").GetInt64());
        Assert.Equal("dispatcher-li", progress.GetProperty("by").GetString());
    }

    [Fact]
    public async Task A_dispatch_connection_watches_at_most_64_regions_and_may_swap_one_for_another()
    {
        await using var console = await SignalRConnection.ConnectAsync(new Uri(_server, "/hubs/dispatch"), await _api.TokenForAsync("dispatcher-li"));
        for (var i = 0; i < 64; i++)
        {
            await console.InvokeAsync("Watch", $"R{i}");
        }
        await console.InvokeAsync("Watch", "R0"); // already watched: no new group

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => console.InvokeAsync("Watch", "R64"));
        Assert.Contains("at most 64 regions", refused.Message);
        await console.InvokeAsync("Watch", "*"); // the way out the refusal names is taken
        await console.InvokeAsync("Unwatch", "*");
        var tooLong = await Assert.ThrowsAsync<InvalidOperationException>(() => console.InvokeAsync("Watch", new string('x', 65)));
        Assert.Contains("400 region: region is longer than 64 characters.", tooLong.Message);
        var control = await Assert.ThrowsAsync<InvalidOperationException>(() => console.InvokeAsync("Watch", "R1\u0000"));
        Assert.Contains("400 region: region contains the control character U+0000; it takes one line of plain text.", control.Message);
        var invisible = await Assert.ThrowsAsync<InvalidOperationException>(() => console.InvokeAsync("Watch", "\u200BR1"));
        Assert.Contains("400 region: region contains U+200B, which shows as nothing or as another character;", invisible.Message);

        await console.InvokeAsync("Unwatch", " R0 "); // read as Watch reads it (trimmed): R0 is no longer watched
        await console.InvokeAsync("Watch", "R64");
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

    /// <summary>The PDA sends its updates over the hub it hears its orders on: each is checked as over HTTP, a refusal
    /// says why with the HTTP status it would get, and nothing refused is applied.</summary>
    [Fact]
    public async Task A_crew_works_its_order_over_the_crew_hub_and_is_told_why_a_refused_update_was_refused()
    {
        var dispatcher = await _api.ClientForAsync("dispatcher-li");
        await RegisterCrewAsync(dispatcher);
        await using var pda = await SignalRConnection.ConnectAsync(new Uri(_server, "/hubs/crew"), await _api.TokenForAsync("crew-c12"));
        await dispatcher.PostAsJsonAsync("/api/work-orders", new
        {
            id = "WO-HUB-1", kind = "FaultRepair", description = "Fuse blown", region = "R1", location = new { latitude = 20.0, longitude = 110.3 },
        });
        await NextOrderAsync(pda, "WO-HUB-1", "Dispatched");

        var accepted = await pda.CallAsync("Transition", "WO-HUB-1", new { action = "accept", note = "on it" });
        var cancel = await Assert.ThrowsAsync<InvalidOperationException>(() => pda.CallAsync("Transition", "WO-HUB-1", new { action = "cancel" }));
        var longNote = await Assert.ThrowsAsync<InvalidOperationException>(() => pda.CallAsync("Transition", "WO-HUB-1", new { action = "en-route", note = new string('x', 2001) }));
        var twice = await Assert.ThrowsAsync<InvalidOperationException>(() => pda.CallAsync("Transition", "WO-HUB-1", new { action = "accept" }));
        var unknown = await Assert.ThrowsAsync<InvalidOperationException>(() => pda.CallAsync("Transition", "WO-NONE", new { action = "accept" }));
        var misspelt = await Assert.ThrowsAsync<InvalidOperationException>(() => pda.CallAsync("Transition", "WO-HUB-1", new { action = "en-route", notes = "x" }));
        var moved = await pda.CallAsync("ReportLocation", new { latitude = 20.05, longitude = 110.31 });
        var badStatus = await Assert.ThrowsAsync<InvalidOperationException>(() => pda.CallAsync("SetStatus", "Sleeping"));
        // Arguments of the wrong JSON type are named as any bad field (SignalR's binding answered "Failed to invoke").
        var numberStatus = await Assert.ThrowsAsync<InvalidOperationException>(() => pda.CallAsync("SetStatus", 3));
        var numberOrder = await Assert.ThrowsAsync<InvalidOperationException>(() => pda.CallAsync("Transition", 5, new { action = "accept" }));

        Assert.Equal("Accepted", accepted.GetProperty("state").GetString());
        Assert.Equal("C-12", accepted.GetProperty("crewId").GetString());
        // SignalR puts its own words before a hub error: "An unexpected error occurred invoking 'Transition' on the
        // server. HubException: …"; what follows is ours.
        Assert.EndsWith("HubException: 403 action: A crew may accept, reject, en-route, arrive, resolve; cancel is for dispatchers.", cancel.Message, StringComparison.Ordinal);
        Assert.EndsWith("HubException: 400 note: note is longer than 2000 characters.", longNote.Message, StringComparison.Ordinal);
        Assert.Contains("HubException: 409 Work order 'WO-HUB-1' is Accepted", twice.Message, StringComparison.Ordinal);
        Assert.EndsWith("HubException: 404 Work order 'WO-NONE' does not exist.", unknown.Message, StringComparison.Ordinal);
        Assert.EndsWith("HubException: 400 status: status must be text.", numberStatus.Message, StringComparison.Ordinal);
        Assert.EndsWith("HubException: 400 orderId: orderId must be text.", numberOrder.Message, StringComparison.Ordinal);
        Assert.Contains("HubException: 400 status: status 'Sleeping' is not one of", badStatus.Message, StringComparison.Ordinal);
        Assert.EndsWith("HubException: 400 notes: 'notes' is not a field of this request; it takes action, note, location, targetId, requestId, version.", misspelt.Message, StringComparison.Ordinal);
        Assert.Equal(20.05, moved.GetProperty("location").GetProperty("latitude").GetDouble());
        var stored = await ApiScenario.JsonAsync(await dispatcher.GetAsync("/api/work-orders/WO-HUB-1"));
        Assert.Equal("Accepted", stored.GetProperty("state").GetString());
    }

    private static JsonElement? Method(JsonElement snapshot, string name) =>
        snapshot.GetProperty("methods").EnumerateArray().Where(m => m.GetProperty("method").GetString() == name).Select(m => (JsonElement?)m).FirstOrDefault();

    private static Task RegisterCrewAsync(HttpClient dispatcher) => ApiScenario.RegisterCrewAsync(dispatcher, "C-12");

    /// <summary>Reads "orders" messages until one holds <paramref name="orderId"/> in <paramref name="state"/>.</summary>
    private static async Task<JsonElement> NextOrderAsync(SignalRConnection connection, string orderId, string state, string? crewId = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var updates = (await connection.NextInvocationAsync("orders", deadline - DateTime.UtcNow))[0];
            foreach (var update in updates.EnumerateArray())
            {
                var order = update.GetProperty("order");
                if (order.GetProperty("id").GetString() == orderId && order.GetProperty("state").GetString() == state
                    && (crewId is null || (order.TryGetProperty("crewId", out var crew) && crew.GetString() == crewId)))
                {
                    return update;
                }
            }
        }
    }
}

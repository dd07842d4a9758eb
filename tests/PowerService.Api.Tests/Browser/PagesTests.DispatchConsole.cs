using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using PowerService.Api.Tests.Support;
using PowerService.TestSupport;

namespace PowerService.Api.Tests.Browser;

/// <summary>The dispatch console through a dispatcher's shift: what an exploratory pass found it hid, lost or cut off.</summary>
public sealed partial class PagesTests
{
    private static readonly ViewportSize Laptop = new() { Width = 1366, Height = 768 };

    /// <summary>A region the hub refuses (pasted from a phone with U+FE0F, or 65 characters) was remembered before the
    /// hub answered: every later Watch first unwatched it, was refused, and a reload or a new sign-in brought it back
    /// with an empty console and no error. Only closing the tab got out of it.</summary>
    [Fact]
    public async Task A_region_the_hub_refuses_leaves_the_console_watching_what_it_watched_and_is_never_remembered()
    {
        var dispatcherApi = await _api.ClientForAsync("dispatcher-li");
        await ApiScenario.ServeRegionsAsync(dispatcherApi, "R1");
        await CreateMeterOrderAsync(dispatcherApi, "WO-R1");
        var console = await SignInAsync("dispatch.html", "dispatcher-li", desktop: Laptop);
        var pageErrors = new List<string>();
        console.PageError += (_, error) => pageErrors.Add(error);
        var region = console.Locator("#region");
        var error = console.Locator("#error");
        var watch = console.Locator("#watch");

        await region.FillAsync("R1\uFE0F");
        await watch.ClickAsync();
        await Assertions.Expect(error).ToContainTextAsync("U+FE0F");
        await region.FillAsync("R1");
        await watch.ClickAsync();
        await Assertions.Expect(console.Locator("#orders tr[data-order='WO-R1']")).ToBeVisibleAsync();
        await Assertions.Expect(error).ToBeHiddenAsync();

        // Refused, the watch stays on R1: a new order there still shows live, and a reload watches R1 again.
        await region.FillAsync(new string('R', 65));
        await watch.ClickAsync();
        await Assertions.Expect(error).ToContainTextAsync("longer than 64 characters");
        await CreateMeterOrderAsync(dispatcherApi, "WO-R2");
        await Assertions.Expect(console.Locator("#orders tr[data-order='WO-R2']")).ToBeVisibleAsync();
        await console.ReloadAsync();
        await Assertions.Expect(region).ToHaveValueAsync("R1");
        await Assertions.Expect(console.Locator("#loaded")).ToContainTextAsync("2 open orders of R1 loaded");
        await Assertions.Expect(error).ToBeHiddenAsync();

        // A tab that remembered a refused region (an older page did) says so on opening, and the next Watch works.
        await console.EvaluateAsync("() => sessionStorage.setItem('powerservice.console.region', 'R1\\uFE0F')");
        await console.ReloadAsync();
        await Assertions.Expect(error).ToContainTextAsync("U+FE0F");
        await region.FillAsync("R1");
        await watch.ClickAsync();
        await Assertions.Expect(console.Locator("#loaded")).ToContainTextAsync("2 open orders of R1 loaded");
        await Assertions.Expect(error).ToBeHiddenAsync();
        Assert.Empty(pageErrors);

        // The next person at the console starts from every region, not the last one's.
        await console.Locator("#sign-out").ClickAsync();
        await SignInHereAsync(console, "dispatcher-li");
        await Assertions.Expect(region).ToHaveValueAsync("*");
    }

    /// <summary>An escalated order whose crew then arrived showed its next clock in green: a supervisor could not tell it
    /// from any other. And a callback to make again, due now, was grey and ranked below orders due in days (off screen in
    /// a busy region). The row says "escalated", and the due callback is amber at the top.</summary>
    [Fact]
    public async Task An_escalated_order_says_so_and_a_callback_due_again_ranks_above_orders_due_later()
    {
        await RestartWithAsync(
            ("Workflow:Sla:Rules:0:Clock", "Arrival"), ("Workflow:Sla:Rules:0:Kind", "FaultRepair"), ("Workflow:Sla:Rules:0:StartsAt", "Receipt"),
            ("Workflow:Sla:Rules:0:StopsAt", "Arrival"), ("Workflow:Sla:Rules:0:Limit", "00:00:02"), ("Workflow:Sla:Rules:0:Basis", "Elapsed"),
            ("Workflow:Sla:Rules:0:Area", "Urban"), ("Workflow:Callback:RetryDelays:0", "00:00:04"));
        var dispatcherApi = await _api.ClientForAsync("dispatcher-li");
        await ApiScenario.RegisterCrewAsync(dispatcherApi, "C-12");
        var site = new { latitude = 20.01, longitude = 110.33 };
        Assert.Equal(HttpStatusCode.Created, (await dispatcherApi.PostAsJsonAsync("/api/work-orders", new { id = "WO-ESC", kind = "FaultRepair", description = "Line down", region = "R1", location = site })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await dispatcherApi.PostAsJsonAsync("/api/work-orders", new { id = "WO-LATER", kind = "NewConnection", connectionCategory = "Residential", description = "New house", region = "R1", location = site })).StatusCode);
        await Eventually.True(async () => (await dispatcherApi.GetFromJsonAsync<JsonElement>("/api/work-orders/WO-ESC")).GetProperty("escalated").GetBoolean(), "the arrival breached and escalated");
        var crew = await _api.ClientForAsync("crew-c12");
        if ((await dispatcherApi.GetFromJsonAsync<JsonElement>("/api/work-orders/WO-ESC")).GetProperty("crewId").GetString() != "C-12")
        {
            Assert.Equal(HttpStatusCode.OK, (await dispatcherApi.PostAsJsonAsync("/api/work-orders/WO-ESC/assign", new { crewId = "C-12" })).StatusCode);
        }
        foreach (var action in new[] { "accept", "en-route", "arrive", "resolve" })
        {
            Assert.Equal(HttpStatusCode.OK, (await crew.PostAsJsonAsync("/api/work-orders/WO-ESC/transitions", new { action, location = site })).StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await dispatcherApi.PostAsJsonAsync("/api/work-orders/WO-ESC/callback", new { outcome = "Unreachable" })).StatusCode);

        var console = await SignInAsync("dispatch.html", "dispatcher-li");
        await console.Locator("#region").FillAsync("R1");
        await console.Locator("#watch").ClickAsync();
        var row = console.Locator("#orders tr[data-order='WO-ESC']");
        await Assertions.Expect(row.Locator(".escalated")).ToHaveTextAsync("escalated");
        await Assertions.Expect(console.Locator("#orders tr[data-order='WO-LATER'] .escalated")).ToHaveTextAsync("");
        await Assertions.Expect(row.Locator("td.sla")).ToContainTextAsync("call again now", new() { Timeout = 15_000 });
        await Assertions.Expect(row.Locator("td.sla")).ToHaveClassAsync(new Regex(@"\bwarn\b"));
        await Assertions.Expect(console.Locator("#orders tr[data-order]").First).ToHaveAttributeAsync("data-order", "WO-ESC");
    }

    /// <summary>A feeder's area outages side by side wrote their labels over each other into an unreadable blob that ran
    /// off the map's right edge. Labels are placed biggest first, beside their circle or to its left at the edge, only
    /// where they overlap none; every circle is still drawn.</summary>
    [Fact]
    public async Task Outage_labels_on_the_map_never_overlap_nor_run_off_it_and_every_outage_keeps_its_circle()
    {
        var dispatcherApi = await _api.ClientForAsync("dispatcher-li");
        const int Areas = 30;
        var areas = new System.Text.StringBuilder("area_id,name,feeder_id,grid_id,region,area_class,latitude,longitude,capacity_kva\n");
        var meters = new System.Text.StringBuilder("meter_id,area_id,latitude,longitude\n");
        for (var a = 1; a <= Areas; a++)
        {
            // In a tight row, as a feeder's areas along one street are.
            areas.Append(CultureInfo.InvariantCulture, $"TA-{a},Street {a},F-1,G-1,R1,urban,{20.0 + (a % 3) * 0.001},{110.3 + a * 0.002},400\n");
            for (var m = 1; m <= 3; m++)
            {
                meters.Append(CultureInfo.InvariantCulture, $"M-{a}-{m},TA-{a},20.0,110.3\n");
            }
        }
        await ApiScenario.ImportAsync(dispatcherApi, "feeders", "feeder_id,name,substation_id,substation_name,region\nF-1,Binhai 1,S-1,Binhai,R1\n");
        await ApiScenario.ImportAsync(dispatcherApi, "grids", "grid_id,name,region,manager_name,manager_phone\nG-1,Binhai grid,R1,Chen Jie,13800000001\n");
        await ApiScenario.ImportAsync(dispatcherApi, "transformer-areas", areas.ToString());
        await ApiScenario.ImportAsync(dispatcherApi, "meters", meters.ToString());
        var headEnd = await _api.ClientForAsync("headend-1");
        var gasps = Enumerable.Range(1, Areas).SelectMany(a => Enumerable.Range(1, 3).Select(m => new { meterId = $"M-{a}-{m}", eventId = $"gasp-{a}-{m}", type = "LastGasp", at = DateTimeOffset.UtcNow })).ToArray();
        Assert.Equal(HttpStatusCode.OK, (await headEnd.PostAsJsonAsync("/api/meter-events", new { events = gasps })).StatusCode);
        await Eventually.True(async () => (await dispatcherApi.GetFromJsonAsync<JsonElement>("/api/outages?active=true&take=100")).GetProperty("items").GetArrayLength() >= Areas, "every area's outage is listed");

        var console = await SignInAsync("dispatch.html", "dispatcher-li");
        await console.Locator("#region").FillAsync("R1");
        await console.Locator("#watch").ClickAsync();
        await Assertions.Expect(console.Locator("#map-outages circle")).ToHaveCountAsync(Areas + 1); // and the feeder's
        var boxes = await console.EvaluateAsync<double[][]>("() => [...document.querySelectorAll('#map-outages text')].map(t => { const b = t.getBBox(); return [b.x, b.y, b.x + b.width, b.y + b.height]; })");
        Assert.NotEmpty(boxes);
        Assert.True(boxes.Length < Areas + 1, $"{boxes.Length} labels for {Areas + 1} circles this close together");
        Assert.All(boxes, b => Assert.True(b[0] >= 0 && b[2] <= 420, $"a label from {b[0]:F0} to {b[2]:F0} px runs off the 420 px map"));
        for (var i = 0; i < boxes.Length; i++)
        {
            for (var j = i + 1; j < boxes.Length; j++)
            {
                var (p, q) = (boxes[i], boxes[j]);
                Assert.False(p[0] < q[2] && q[0] < p[2] && p[1] < q[3] && q[1] < p[3], $"labels {i} and {j} overlap");
            }
        }
        await console.Locator("#map").ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "dispatch-map-labels.png") });
    }

    /// <summary>The console opens watching every region ("*"), which loads no region's crews: the picker said "No crews
    /// known in this region yet." for every order that appeared, and nothing could be assigned from the view a dispatcher
    /// starts in. The crews of the order's region are read when an order of it is picked.</summary>
    [Fact]
    public async Task In_the_every_region_view_a_new_order_is_assigned_to_a_crew_of_its_region()
    {
        var dispatcherApi = await _api.ClientForAsync("dispatcher-li");
        await ApiScenario.ImportCustomerAsync(dispatcherApi);
        await ApiScenario.RegisterCrewAsync(dispatcherApi, "C-12");
        var console = await SignInAsync("dispatch.html", "dispatcher-li");
        await Assertions.Expect(console.Locator("#region")).ToHaveValueAsync("*");
        await Assertions.Expect(console.Locator("#loaded")).ToContainTextAsync("Watching every region");
        await CreateMeterOrderAsync(dispatcherApi, "WO-ALL"); // no crew has Metering: dispatch leaves it to the dispatchers
        var row = console.Locator("#orders tr[data-order='WO-ALL']");
        await row.Locator("button[data-assign]").ClickAsync();

        var picker = console.Locator("#picker");
        var c12 = picker.Locator("tr[data-crew='C-12']");
        await Assertions.Expect(c12).ToContainTextAsync("no Metering");
        await Assertions.Expect(picker.Locator("#picker-count")).ToHaveTextAsync("1 of 1 crews");
        await c12.Locator("button").ClickAsync();
        await Assertions.Expect(picker).ToBeHiddenAsync();
        await Assertions.Expect(row).ToContainTextAsync("C-12");
        Assert.Equal("C-12", (await dispatcherApi.GetFromJsonAsync<JsonElement>("/api/work-orders/WO-ALL")).GetProperty("crewId").GetString());
    }

    /// <summary>The picker is kept live, so the console sent the order's version as it was at the click, already the
    /// other dispatcher's: the second dispatcher silently took the order from the first one's crew. The version the
    /// dispatcher decided on is the one they opened the picker on.</summary>
    [Fact]
    public async Task A_dispatcher_whose_order_another_dispatcher_assigned_since_the_picker_opened_is_told_instead_of_overriding_it()
    {
        var dispatcherApi = await _api.ClientForAsync("dispatcher-li");
        await ApiScenario.ImportCustomerAsync(dispatcherApi);
        await ApiScenario.RegisterCrewAsync(dispatcherApi, "C-12");
        await ApiScenario.RegisterCrewAsync(dispatcherApi, "C-77", latitude: 20.3);
        await CreateMeterOrderAsync(dispatcherApi, "WO-TWO"); // no crew has Metering: dispatch leaves it to the dispatchers
        var console = await SignInAsync("dispatch.html", "dispatcher-li");
        await console.Locator("#region").FillAsync("R1");
        await console.Locator("#watch").ClickAsync();
        var row = console.Locator("#orders tr[data-order='WO-TWO']");
        await row.Locator("button[data-assign]").ClickAsync();
        var picker = console.Locator("#picker");
        await Assertions.Expect(picker.Locator("#picker-order")).ToContainTextAsync("MeterVerification");

        // The other dispatcher, at their own console, gives it to C-12 meanwhile.
        Assert.Equal(HttpStatusCode.OK, (await dispatcherApi.PostAsJsonAsync("/api/work-orders/WO-TWO/assign", new { crewId = "C-12", force = true })).StatusCode);
        await Assertions.Expect(picker.Locator("#picker-order")).ToContainTextAsync("with C-12");
        await Assertions.Expect(picker.Locator("#picker-order")).ToContainTextAsync("changed since you opened it");
        await picker.Locator("tr[data-crew='C-77'] button").ClickAsync();

        await Assertions.Expect(picker.Locator("#picker-error")).ToContainTextAsync("changed since you saw it");
        await Assertions.Expect(picker.Locator("#picker-error")).ToContainTextAsync("Dispatched with crew 'C-12'");
        await Assertions.Expect(console.Locator("#error")).ToContainTextAsync("changed since you saw it");
        await Assertions.Expect(picker).ToBeVisibleAsync();
        Assert.Equal("C-12", (await dispatcherApi.GetFromJsonAsync<JsonElement>("/api/work-orders/WO-TWO")).GetProperty("crewId").GetString());

        // Told, the dispatcher still decides: a second click gives it to C-77.
        await picker.Locator("tr[data-crew='C-77'] button").ClickAsync();
        await Assertions.Expect(picker).ToBeHiddenAsync();
        await Assertions.Expect(row).ToContainTextAsync("C-77");
    }

    /// <summary>Rows carried the customer's booked visit but the console never showed it: two visits a day apart read
    /// alike, and giving a booked order to another crew released the customer's appointment without a word.</summary>
    [Fact]
    public async Task The_console_shows_an_orders_booked_visit_and_asks_again_before_another_crew_releases_it()
    {
        var dispatcherApi = await _api.ClientForAsync("dispatcher-li");
        await ApiScenario.ImportCustomerAsync(dispatcherApi);
        await ApiScenario.RegisterCrewAsync(dispatcherApi, "C-12", skills: ["Metering"], offShiftUntilTomorrow: true);
        await ApiScenario.RegisterCrewAsync(dispatcherApi, "C-77", skills: ["Metering"], offShiftUntilTomorrow: true);
        var today = DateTimeOffset.UtcNow;
        var slot = new DateTimeOffset(today.Year, today.Month, today.Day, 2, 0, 0, TimeSpan.Zero).AddDays(2); // 10:00 in Shanghai
        Assert.Equal(HttpStatusCode.OK, (await dispatcherApi.PostAsJsonAsync("/api/crews/C-12/slots", new { slots = new[] { new { start = slot, end = slot.AddHours(1), capacity = 2 } } })).StatusCode);
        var customerApi = await _api.ClientForAsync("customer-wang");
        async Task<string> BookedAsync(string what)
        {
            var order = (await ApiScenario.JsonAsync(await customerApi.PostAsJsonAsync("/api/work-orders", new { kind = "MeterInstallation", description = what }))).GetProperty("id").GetString()!;
            var booking = (await ApiScenario.JsonAsync(await customerApi.PostAsJsonAsync("/api/bookings", new { orderId = order, crewId = "C-12", slotStart = slot }))).GetProperty("id").GetString();
            Assert.Equal(HttpStatusCode.OK, (await customerApi.PostAsync($"/api/bookings/{booking}/confirm", null)).StatusCode);
            return order;
        }
        var booked = await BookedAsync("Install the new meter");
        var calledOff = await BookedAsync("Move the meter box");
        // Sent to the booked crew, which turns it down: the visit is called off.
        Assert.Equal(HttpStatusCode.OK, (await dispatcherApi.PostAsJsonAsync($"/api/work-orders/{calledOff}/assign", new { crewId = "C-12", force = true })).StatusCode);
        var crew = await _api.ClientForAsync("crew-c12");
        Assert.Equal(HttpStatusCode.OK, (await crew.PostAsJsonAsync($"/api/work-orders/{calledOff}/transitions", new { action = "reject", note = "no meter in the van" })).StatusCode);

        var console = await SignInAsync("dispatch.html", "dispatcher-li", timeZone: "Asia/Shanghai");
        await console.Locator("#region").FillAsync("R1");
        await console.Locator("#watch").ClickAsync();
        var window = $"{slot.ToOffset(TimeSpan.FromHours(8)).ToString("MM-dd", CultureInfo.InvariantCulture)} 10:00–11:00";
        var row = console.Locator($"#orders tr[data-order='{booked}']");
        await Assertions.Expect(row).ToContainTextAsync($"Reserved visit {window}");
        await Assertions.Expect(console.Locator($"#orders tr[data-order='{calledOff}'] .visit")).ToHaveTextAsync($"visit {window} called off");

        await row.Locator("button[data-assign]").ClickAsync();
        var picker = console.Locator("#picker");
        await Assertions.Expect(picker.Locator("#picker-order")).ToContainTextAsync($"booked visit {window} with C-12");
        await console.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "dispatch-picker-visit.png") });
        var other = picker.Locator("tr[data-crew='C-77'] button");
        await other.ClickAsync();
        await Assertions.Expect(picker.Locator("#picker-error")).ToContainTextAsync($"has the customer's booked visit {window} with C-12; assigning C-77 releases it");
        await Assertions.Expect(other).ToHaveTextAsync("Release visit and assign");
        var still = await dispatcherApi.GetFromJsonAsync<JsonElement>($"/api/work-orders/{booked}");
        Assert.Equal(("Reserved", JsonValueKind.Object), (still.GetProperty("state").GetString(), still.GetProperty("visit").ValueKind));

        await other.ClickAsync();
        await Assertions.Expect(picker).ToBeHiddenAsync();
        await Assertions.Expect(row).ToContainTextAsync("C-77");
        await Assertions.Expect(row.Locator(".visit")).ToBeEmptyAsync();
        Assert.Equal(JsonValueKind.Null, (await dispatcherApi.GetFromJsonAsync<JsonElement>($"/api/work-orders/{booked}")).GetProperty("visit").ValueKind);
    }

    /// <summary>At 1366×768 the active outage's ETR input was half shown and Restore off to the side (the table 1,505 px
    /// wide in a 1,332 px panel), and the crews' Location column was cut off.</summary>
    [Fact]
    public async Task On_a_1366_screen_an_outages_ETR_and_Restore_and_the_crews_location_fit_without_scrolling_sideways()
    {
        var dispatcherApi = await _api.ClientForAsync("dispatcher-li");
        var headEnd = await _api.ClientForAsync("headend-1");
        // Ids as long as a city's: the area's name is in the outage's row twice, in its supply and its repair order's id.
        const string Area = "TA-HAIKOU-LONGHUA-0001";
        await ApiScenario.ImportAsync(dispatcherApi, "feeders", "feeder_id,name,substation_id,substation_name,region\nF-1,Binhai 1,S-1,Binhai,R1\n");
        await ApiScenario.ImportAsync(dispatcherApi, "grids", "grid_id,name,region,manager_name,manager_phone\nG-1,Binhai grid,R1,Chen Jie,13800000001\n");
        await ApiScenario.ImportAsync(dispatcherApi, "transformer-areas", $"area_id,name,feeder_id,grid_id,region,area_class,latitude,longitude,capacity_kva\n{Area},Binhai 1-1,F-1,G-1,R1,urban,20.0,110.3,400\n");
        await ApiScenario.ImportAsync(dispatcherApi, "meters", "meter_id,area_id,latitude,longitude\n" + string.Concat(Enumerable.Range(1, 10).Select(m => $"M-{m},{Area},20.0,110.3\n")));
        await ApiScenario.RegisterCrewAsync(dispatcherApi, "C-12");
        await ApiScenario.RegisterCrewAsync(dispatcherApi, "C-NIGHT", offShiftUntilTomorrow: true); // "off until 12-08 14:37"
        var console = await SignInAsync("dispatch.html", "dispatcher-li", desktop: Laptop);
        await console.Locator("#region").FillAsync("R1");
        await console.Locator("#watch").ClickAsync();
        await Assertions.Expect(console.Locator("#crews tr[data-crew='C-12']")).ToBeVisibleAsync();
        Assert.Equal(HttpStatusCode.OK, (await headEnd.PostAsJsonAsync("/api/meter-events", ApiScenario.LastGasps(1, 10))).StatusCode);
        var id = "";
        await Eventually.True(async () => (await dispatcherApi.GetFromJsonAsync<OutageList>("/api/outages"))!.Items is [var listed] && (id = listed.Id) != "", "the outage is listed");
        var repair = (await dispatcherApi.GetFromJsonAsync<JsonElement>($"/api/outages/{id}")).GetProperty("repairOrderId").GetString();
        await Eventually.True(async () => (await dispatcherApi.GetFromJsonAsync<JsonElement>($"/api/work-orders/{repair}")).GetProperty("crewId").GetString() == "C-12", "dispatch sends C-12");
        var crew = await _api.ClientForAsync("crew-c12");
        Assert.Equal(HttpStatusCode.OK, (await crew.PostAsJsonAsync($"/api/work-orders/{repair}/transitions", new { action = "accept" })).StatusCode);
        var outage = console.Locator($"#outages tr[data-outage='{id}']");
        await Assertions.Expect(outage).ToContainTextAsync("· C-12"); // its repair order's crew: the row as wide as it gets
        await outage.Locator("input[type=datetime-local]").FillAsync($"{DateTime.UtcNow.AddDays(1):yyyy-MM-dd}T18:30");
        await outage.GetByRole(AriaRole.Button, new() { Name = "Set ETR" }).ClickAsync();
        await Assertions.Expect(outage.Locator("td.etr")).ToContainTextAsync("18:30");
        await console.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "dispatch-1366.png"), FullPage = true });

        var section = console.Locator("section").Filter(new() { Has = console.Locator("#outages") });
        Assert.True(await FitsAsync(section), "the outages panel scrolls sideways");
        var panel = (await section.BoundingBoxAsync())!;
        foreach (var control in new[] { outage.Locator("input[type=datetime-local]"), outage.GetByRole(AriaRole.Button, new() { Name = "Set ETR" }), outage.Locator("button[data-restore]") })
        {
            var box = (await control.BoundingBoxAsync())!;
            Assert.True(box.X >= panel.X && box.X + box.Width <= panel.X + panel.Width && box.X + box.Width <= Laptop.Width,
                $"a control of the outage row ends at x={box.X + box.Width:F0}, its panel at {panel.X + panel.Width:F0}");
        }
        Assert.True(await FitsAsync(console.Locator(".scroll.crews")), "the crews table scrolls sideways");
        Assert.True(await console.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= innerWidth"), "the page scrolls sideways");
    }

    /// <summary>The picker's table was wider than its dialog at 1920 and 1366 ("Assign anyw…"), and it opened scrolled
    /// where the last one was left: the nearest crews, the ones listed first, hidden above.</summary>
    [Fact]
    public async Task The_crew_picker_fits_its_dialog_and_opens_at_the_nearest_crews_whatever_the_last_one_was_scrolled_to()
    {
        var dispatcherApi = await _api.ClientForAsync("dispatcher-li");
        await ApiScenario.ImportCustomerAsync(dispatcherApi);
        await ApiScenario.RegisterCrewAsync(dispatcherApi, "C-12", latitude: 20.001);
        for (var i = 0; i < 30; i++)
        {
            await ApiScenario.RegisterCrewAsync(dispatcherApi, $"C-M{i:D2}", latitude: 20.01 + i * 0.01, skills: ["Metering"], offShiftUntilTomorrow: true, name: $"Longhua metering night crew {i}");
        }
        foreach (var id in (string[])["WO-P1", "WO-P2"])
        {
            Assert.Equal(HttpStatusCode.Created, (await dispatcherApi.PostAsJsonAsync("/api/work-orders", new { id, kind = "FaultRepair", description = "No power", region = "R1", location = new { latitude = 20.0, longitude = 110.3 } })).StatusCode);
        }
        var console = await SignInAsync("dispatch.html", "dispatcher-li", desktop: Laptop);
        await console.Locator("#region").FillAsync("R1");
        await console.Locator("#watch").ClickAsync();
        var picker = console.Locator("#picker");
        var list = picker.Locator(".picker-list");

        await console.Locator("#orders tr[data-order='WO-P1'] button[data-assign]").ClickAsync();
        await Assertions.Expect(picker.Locator("tr[data-crew='C-M29']")).ToContainTextAsync("outside its shifts · no LowVoltageRepair");
        await console.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "dispatch-picker-1366.png") });
        await AssertPickerFitsAsync(list);
        await list.EvaluateAsync("list => { list.scrollTop = list.scrollHeight; }");
        await Assertions.Expect(picker.Locator("#picker-crews tr").First).Not.ToBeInViewportAsync();
        await picker.GetByRole(AriaRole.Button, new() { Name = "Close" }).ClickAsync();

        await console.Locator("#orders tr[data-order='WO-P2'] button[data-assign]").ClickAsync();
        await Assertions.Expect(picker.Locator("#picker-title")).ToHaveTextAsync("Assign WO-P2");
        Assert.Equal(0, await list.EvaluateAsync<double>("list => list.scrollTop"));
        await Assertions.Expect(picker.Locator("#picker-crews tr").First).ToBeInViewportAsync();

        await console.SetViewportSizeAsync(1920, 1080);
        await AssertPickerFitsAsync(list);
        await console.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "dispatch-picker-1920.png") });
    }

    /// <summary>No sideways scroll in the picker's list, and every crew's button inside it.</summary>
    private static async Task AssertPickerFitsAsync(ILocator list)
    {
        Assert.True(await FitsAsync(list), "the picker's list scrolls sideways");
        var box = (await list.BoundingBoxAsync())!;
        var button = (await list.Locator("#picker-crews tr button").Last.BoundingBoxAsync())!;
        Assert.True(button.X + button.Width <= box.X + box.Width, $"a crew's button ends at x={button.X + button.Width:F0}, the list at {box.X + box.Width:F0}");
    }

    /// <summary>Whether the element's content fits its width (nothing to scroll sideways to).</summary>
    private static Task<bool> FitsAsync(ILocator element) => element.EvaluateAsync<bool>("e => e.scrollWidth <= e.clientWidth");

    /// <summary>After cancelling an order from the picker, the keyboard fell to the page's body (the row it returned to
    /// was gone) and the next Tab started at the top of the page.</summary>
    [Fact]
    public async Task After_cancelling_an_order_from_the_picker_the_keyboard_is_on_the_next_rows_Assign()
    {
        var dispatcherApi = await _api.ClientForAsync("dispatcher-li");
        await ApiScenario.ServeRegionsAsync(dispatcherApi, "R1");
        foreach (var id in (string[])["WO-C1", "WO-C2", "WO-C3"])
        {
            await CreateMeterOrderAsync(dispatcherApi, id);
        }
        var console = await SignInAsync("dispatch.html", "dispatcher-li");
        await console.Locator("#region").FillAsync("R1");
        await console.Locator("#watch").ClickAsync();
        var rows = console.Locator("#orders tr[data-order]");
        await Assertions.Expect(rows).ToHaveCountAsync(3);
        var ids = await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.order)");

        async Task CancelAsync(string id)
        {
            await console.Locator($"#orders tr[data-order='{id}'] button[data-assign]").FocusAsync();
            await console.Keyboard.PressAsync("Enter");
            await Assertions.Expect(console.Locator("#picker-filter")).ToBeFocusedAsync();
            await console.Locator("#cancel-reason").FillAsync("duplicate");
            await console.Keyboard.PressAsync("Enter");
            await Assertions.Expect(console.Locator($"#orders tr[data-order='{id}']")).ToHaveCountAsync(0);
        }
        Task Focused(string id) => Assertions.Expect(console.Locator($"#orders tr[data-order='{id}'] button[data-assign]")).ToBeFocusedAsync();

        await CancelAsync(ids[0]);
        await Focused(ids[1]);
        await CancelAsync(ids[2]); // the last row: the one before it
        await Focused(ids[1]);
        await CancelAsync(ids[1]); // the only row: back to the region
        await Assertions.Expect(console.Locator("#region")).ToBeFocusedAsync();
    }

    /// <summary>A meter verification at 20.0, 110.3 in R1 (no crew the tests register has Metering, so dispatch leaves it).</summary>
    /// <summary>The console showed an order as a row of id, kind, state and countdown: a dispatcher deciding whether a
    /// call is a duplicate to cancel could not read what the customer said, nor what had happened to the order.</summary>
    [Fact]
    public async Task The_order_dialog_shows_what_the_customer_reported_and_the_orders_history()
    {
        var dispatcherApi = await _api.ClientForAsync("dispatcher-li");
        await ApiScenario.ServeRegionsAsync(dispatcherApi, "R1");
        Assert.Equal(HttpStatusCode.Created, (await dispatcherApi.PostAsJsonAsync("/api/work-orders", new
        {
            id = "WO-D1", kind = "MeterVerification", description = "Meter reads twice last month's use; the customer suspects a swap",
            region = "R1", location = new { latitude = 20.0, longitude = 110.3 },
        })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await dispatcherApi.PostAsJsonAsync("/api/work-orders/WO-D1/transitions", new { action = "suspend", note = "customer away until Friday" })).StatusCode);
        var console = await SignInAsync("dispatch.html", "dispatcher-li", desktop: Laptop);
        await console.Locator("#region").FillAsync("R1");
        await console.Locator("#watch").ClickAsync();

        await console.Locator("#orders tr[data-order='WO-D1'] button[data-assign]").ClickAsync();

        await Assertions.Expect(console.Locator("#picker-about")).ToContainTextAsync("Meter reads twice last month's use; the customer suspects a swap");
        await Assertions.Expect(console.Locator("#picker-about")).ToContainTextAsync("via Hotline95598");
        await console.Locator("#picker-history-box summary").ClickAsync();
        await Assertions.Expect(console.Locator("#picker-history li")).ToHaveCountAsync(2);
        await Assertions.Expect(console.Locator("#picker-history li").Nth(1)).ToContainTextAsync("Suspended · dispatcher:dispatcher-li — customer away until Friday");
        await console.ScreenshotAsync(new() { Path = Path.Combine(Screenshots, "dispatch-order-detail.png") });
    }

    /// <summary>Shift change (shift pass): work held by a crew that went off shift looked like any other work on the next
    /// shift's console (green rows, no alert until the SLA warned at 80 %). The row says the crew is off shift and the
    /// alerts list it, on a console opened afterwards and live when a crew goes off shift while it is open.</summary>
    [Fact]
    public async Task Work_held_by_a_crew_off_shift_is_said_on_its_row_and_in_the_alerts_of_the_next_shifts_console()
    {
        var dispatcherApi = await _api.ClientForAsync("dispatcher-li");
        await ApiScenario.RegisterCrewAsync(dispatcherApi, "C-12");
        await ApiScenario.RegisterCrewAsync(dispatcherApi, "C-13", latitude: 20.3);
        var crew = await _api.ClientForAsync("crew-c12");
        foreach (var id in new[] { "WO-OFF1", "WO-OFF2" })
        {
            await CreateMeterOrderAsync(dispatcherApi, id);
            Assert.Equal(HttpStatusCode.OK, (await dispatcherApi.PostAsJsonAsync($"/api/work-orders/{id}/assign", new { crewId = id == "WO-OFF1" ? "C-12" : "C-13", force = true })).StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await crew.PostAsJsonAsync("/api/work-orders/WO-OFF1/transitions", new { action = "accept" })).StatusCode);
        var console = await SignInAsync("dispatch.html", "dispatcher-li", desktop: Laptop);
        await console.Locator("#region").FillAsync("R1");
        await console.Locator("#watch").ClickAsync();
        var held = console.Locator("#orders tr[data-order='WO-OFF1']");
        await Assertions.Expect(held).ToContainTextAsync("Accepted");
        await Assertions.Expect(held).Not.ToContainTextAsync("off shift");

        // Live: the crew goes off shift (the PDA's "Go off shift") while the console is open.
        Assert.Equal(HttpStatusCode.OK, (await crew.PostAsJsonAsync("/api/crews/C-12/status", new { status = "OffShift" })).StatusCode);
        await Assertions.Expect(held).ToContainTextAsync("C-12 · off shift");
        await Assertions.Expect(console.Locator("#alerts")).ToContainTextAsync("WO-OFF1: C-12 is off shift and holds it (Accepted)");
        await Assertions.Expect(console.Locator("#orders tr[data-order='WO-OFF2']")).Not.ToContainTextAsync("off shift");

        // The next shift signs in at the console: still said.
        await console.Locator("#sign-out").ClickAsync();
        await SignInHereAsync(console, "dispatcher-li");
        await console.Locator("#region").FillAsync("R1");
        await console.Locator("#watch").ClickAsync();
        await Assertions.Expect(console.Locator("#orders tr[data-order='WO-OFF1']")).ToContainTextAsync("C-12 · off shift");
        await Assertions.Expect(console.Locator("#alerts")).ToContainTextAsync("WO-OFF1: C-12 is off shift and holds it (Accepted)");
    }

    private static async Task CreateMeterOrderAsync(HttpClient dispatcherApi, string id) =>
        Assert.Equal(HttpStatusCode.Created, (await dispatcherApi.PostAsJsonAsync("/api/work-orders", new { id, kind = "MeterVerification", description = "Meter reads high", region = "R1", location = new { latitude = 20.0, longitude = 110.3 } })).StatusCode);
}

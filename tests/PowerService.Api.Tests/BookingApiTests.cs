using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using PowerService.Api.Tests.Support;
using PowerService.TestSupport;

namespace PowerService.Api.Tests;

/// <summary>Bookings over HTTP as the customer app and the dispatch console use them: hold a crew's slot, confirm it
/// (the order becomes Reserved), release it; the silo runs on a manual clock so a hold can be let expire.</summary>
public sealed class BookingApiTests : IAsyncLifetime
{
    private readonly ManualTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private readonly ApiFactory _api;
    private HttpClient _dispatcher = null!;
    private HttpClient _customer = null!;
    private DateTimeOffset _slot;

    private static readonly string[] MeterAndRepair = ["LowVoltageRepair", "Metering"];

    public BookingApiTests() => _api = new ApiFactory().WithSiloClock(_clock);

    public async Task InitializeAsync()
    {
        _dispatcher = await _api.ClientForAsync("dispatcher-li");
        _customer = await _api.ClientForAsync("customer-wang");
        await ApiScenario.ImportCustomerAsync(_dispatcher);
        await ApiScenario.RegisterCrewAsync(_dispatcher, "C-12", skills: MeterAndRepair, offShiftUntilTomorrow: true);
        var now = _clock.GetUtcNow();
        _slot = new DateTimeOffset(now.Year, now.Month, now.Day, 9, 0, 0, TimeSpan.Zero).AddDays(2);
        var published = await _dispatcher.PostAsJsonAsync("/api/crews/C-12/slots", new { slots = new[] { new { start = _slot, end = _slot.AddHours(2), capacity = 1 } } });
        Assert.Equal(HttpStatusCode.OK, published.StatusCode);
    }

    public async Task DisposeAsync() => await _api.DisposeAsync();

    [Fact]
    public async Task A_customer_books_a_visit_for_their_own_order_and_confirming_reserves_the_order_for_that_crew()
    {
        var orderId = await CreateAsync(_customer, new { kind = "MeterInstallation", description = "Install the new meter" });

        var held = await _customer.PostAsJsonAsync("/api/bookings", new { orderId, crewId = "C-12", slotStart = _slot });
        Assert.Equal(HttpStatusCode.Created, held.StatusCode);
        var booking = await Json(held);
        var id = booking.GetProperty("id").GetString()!;
        Assert.Equal($"/api/bookings/{Uri.EscapeDataString(id)}", held.Headers.Location?.OriginalString);
        Assert.Equal("Held", booking.GetProperty("state").GetString());

        var confirmed = await _customer.PostAsync($"/api/bookings/{id}/confirm", null);
        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        var body = await Json(confirmed);
        Assert.Equal("Confirmed", body.GetProperty("booking").GetProperty("state").GetString());
        Assert.Equal("Reserved", body.GetProperty("order").GetProperty("state").GetString());
        var order = await Json(await _dispatcher.GetAsync($"/api/work-orders/{orderId}"));
        Assert.Equal(("Reserved", "C-12"), (order.GetProperty("state").GetString(), order.GetProperty("crewId").GetString()));
        var slots = await Json(await _dispatcher.GetAsync($"/api/crews/C-12/slots?from={Uri.EscapeDataString(_slot.AddHours(-1).ToString("O"))}"));
        Assert.Equal(1, slots[0].GetProperty("confirmed").GetInt32());

        // The confirmed booking belongs to the order now: releasing it alone would leave the order reserved on nothing.
        Assert.Equal(HttpStatusCode.Conflict, (await _customer.DeleteAsync($"/api/bookings/{id}")).StatusCode);
        // Confirming again (a double tap, a second device) answers the same and changes nothing.
        var again = await _customer.PostAsync($"/api/bookings/{id}/confirm", null);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(body.GetProperty("order").GetProperty("version").GetInt32(), (await Json(again)).GetProperty("order").GetProperty("version").GetInt32());
    }

    /// <summary>Answers carried each time with the offset it came with (a slot published at 17:00+08:00 came back so, an
    /// order's times in +00:00): right instants, but a client comparing them as text put them out of order. Every time
    /// in an answer is in UTC now.</summary>
    [Fact]
    public async Task Times_in_answers_are_in_UTC_whatever_offset_they_were_sent_with()
    {
        var china = TimeSpan.FromHours(8);
        var start = new DateTimeOffset(_slot.Year, _slot.Month, _slot.Day, 17, 0, 0, china);
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync("/api/crews/C-12/slots", new
        {
            slots = new[] { new { start = start.ToString("yyyy-MM-ddTHH:mm:sszzz"), end = start.AddHours(2).ToString("yyyy-MM-ddTHH:mm:sszzz"), capacity = 1 } },
        })).StatusCode);
        var orderId = await CreateAsync(_customer, new { kind = "MeterInstallation", description = "Install the new meter" });

        var slots = await _dispatcher.GetStringAsync($"/api/crews/C-12/slots?from={Uri.EscapeDataString(_slot.AddHours(-1).ToString("O"))}");
        var order = await _dispatcher.GetStringAsync($"/api/work-orders/{orderId}");

        Assert.Contains($"\"start\":\"{start.UtcDateTime:yyyy-MM-ddTHH:mm:ss}+00:00\"", slots, StringComparison.Ordinal);
        Assert.DoesNotContain("+08:00", slots, StringComparison.Ordinal);
        Assert.Matches("\"createdAt\":\"[0-9T:.-]+\\+00:00\"", order);
    }

    /// <summary>A customer could not find a time to book: crews are not theirs to list and slots were listed per crew
    /// only. <c>GET /api/bookings/times?orderId=</c> lists the free times of the crews of the order's region able to do
    /// its work, one per time, earliest first: not a crew without the skill, not a full slot, not (for a customer) one
    /// starting within the dispatch lead; another customer's order is a 404.</summary>
    [Fact]
    public async Task A_customer_lists_the_free_visit_times_of_the_crews_able_to_do_their_order()
    {
        await ApiScenario.RegisterCrewAsync(_dispatcher, "C-13", skills: ["LowVoltageRepair"], offShiftUntilTomorrow: true); // no metering
        await ApiScenario.RegisterCrewAsync(_dispatcher, "C-14", skills: MeterAndRepair, offShiftUntilTomorrow: true);
        var now = _clock.GetUtcNow();
        var soon = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero).AddMinutes(20);
        var later = _slot.AddHours(4);
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync("/api/crews/C-13/slots", new { slots = new[] { new { start = later, end = later.AddHours(2), capacity = 3 } } })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync("/api/crews/C-14/slots", new
        {
            slots = new[] { new { start = soon, end = soon.AddHours(1), capacity = 1 }, new { start = _slot, end = _slot.AddHours(2), capacity = 2 }, new { start = later, end = later.AddHours(2), capacity = 1 } },
        })).StatusCode);
        var full = await CreateAsync(_dispatcher, Installation("WO-FULL"));
        Assert.Equal(HttpStatusCode.Created, (await _dispatcher.PostAsJsonAsync("/api/bookings", new { orderId = full, crewId = "C-14", slotStart = later })).StatusCode);
        var orderId = await CreateAsync(_customer, new { kind = "MeterVerification", description = "The meter runs fast" });

        var listed = await _customer.GetAsync($"/api/bookings/times?orderId={orderId}");

        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        var times = (await Json(listed)).EnumerateArray()
            .Select(t => (t.GetProperty("start").GetDateTimeOffset(), t.GetProperty("end").GetDateTimeOffset(), t.GetProperty("crewId").GetString(), t.GetProperty("free").GetInt32())).ToList();
        // C-14's 2 places and C-12's 1 at the same time: one time, held with the crew with the most places.
        Assert.Equal([(_slot, _slot.AddHours(2), "C-14", 3)], times);
        var dispatcherTimes = await Json(await _dispatcher.GetAsync($"/api/bookings/times?orderId={orderId}"));
        Assert.Equal(soon, dispatcherTimes[0].GetProperty("start").GetDateTimeOffset()); // a dispatcher may fit a visit in
        var picked = times[0];
        Assert.Equal(HttpStatusCode.Created, (await _customer.PostAsJsonAsync("/api/bookings", new { orderId, crewId = picked.Item3, slotStart = picked.Item1 })).StatusCode);

        var other = await _api.ClientForAsync("customer-li");
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/bookings/times?orderId={orderId}")).StatusCode);
        var noOrder = await _customer.GetAsync("/api/bookings/times");
        Assert.Equal((HttpStatusCode.BadRequest, "orderId"), (noOrder.StatusCode, (await Json(noOrder)).GetProperty("field").GetString()));
        Assert.Equal(HttpStatusCode.Forbidden, (await (await _api.ClientForAsync("crew-c12")).GetAsync($"/api/bookings/times?orderId={orderId}")).StatusCode);
    }

    /// <summary>The app sends a confirm again when its answer was lost (docs/api.md: a double tap is a 200). Once the
    /// order had been dispatched for its slot the resend was a 409 ("is Dispatched: Reserve is not allowed") and the app
    /// showed the booking as failed although it had succeeded.</summary>
    [Fact]
    public async Task A_confirm_sent_again_after_the_order_was_dispatched_for_its_slot_answers_200_with_the_order_and_its_visit()
    {
        var orderId = await CreateAsync(_customer, new { kind = "MeterInstallation", description = "Install the new meter" });
        var id = (await Json(await HoldAsync(_customer, orderId))).GetProperty("id").GetString();
        var first = await Json(await _customer.PostAsync($"/api/bookings/{id}/confirm", null));
        Assert.Equal((id, "C-12", _slot, _slot.AddHours(2)), Visit(first.GetProperty("order")));

        _clock.Advance(_slot - TimeSpan.FromMinutes(30) - _clock.GetUtcNow());
        await Eventually.True(
            async () => (await Json(await _customer.GetAsync($"/api/work-orders/{orderId}"))).GetProperty("state").GetString() == "Dispatched",
            "the order is offered to the booked crew ahead of the slot");
        var again = await _customer.PostAsync($"/api/bookings/{id}/confirm", null);

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var body = await Json(again);
        Assert.Equal(("Confirmed", "Dispatched", "C-12"),
            (body.GetProperty("booking").GetProperty("state").GetString(), body.GetProperty("order").GetProperty("state").GetString(), body.GetProperty("order").GetProperty("crewId").GetString()));
        Assert.Equal((id, "C-12", _slot, _slot.AddHours(2)), Visit(body.GetProperty("order")));
        // The customer's list rows say when the visit is too.
        var listed = await Json(await _customer.GetAsync("/api/work-orders"));
        var row = listed.GetProperty("items").EnumerateArray().Single(o => o.GetProperty("id").GetString() == orderId);
        Assert.Equal((id, "C-12", _slot, _slot.AddHours(2)), Visit(row));
    }

    /// <summary>A customer held and confirmed a slot that had started half an hour before: the order was dispatched at
    /// once for a visit the crew could not make. A dispatcher books through the same endpoint and may fit a visit in.</summary>
    [Fact]
    public async Task A_customer_cannot_book_a_slot_starting_within_the_dispatch_lead_and_a_dispatcher_can()
    {
        var now = _clock.GetUtcNow();
        var soon = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero).AddMinutes(20);
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync("/api/crews/C-12/slots", new { slots = new[] { new { start = soon, end = soon.AddHours(1), capacity = 2 } } })).StatusCode);
        var orderId = await CreateAsync(_customer, new { kind = "MeterInstallation", description = "Install the new meter" });

        var refused = await HoldAsync(_customer, orderId, soon);
        var fittedIn = await HoldAsync(_dispatcher, orderId, soon);

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        var detail = (await Json(refused)).GetProperty("detail").GetString();
        Assert.Contains("starts too soon: a visit is booked at least 30 minutes ahead", detail, StringComparison.Ordinal);
        Assert.Contains("The earliest start you can book now is " + (now + TimeSpan.FromMinutes(31)).ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture), detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Created, fittedIn.StatusCode);
    }

    /// <summary>A dispatcher sends a crew while the customer is confirming the visit time they picked: the tracker showed
    /// "Work order … is Dispatched: Reserve is not allowed". The customer is told what happened, and the time held for
    /// them is let go for others.</summary>
    [Fact]
    public async Task A_confirm_after_a_dispatcher_sent_a_crew_meanwhile_says_so_in_words_and_frees_the_held_time()
    {
        var orderId = await CreateAsync(_customer, new { kind = "MeterInstallation", description = "Install the new meter" });
        var held = await Json(await HoldAsync(_customer, orderId));
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync($"/api/work-orders/{orderId}/assign", new { crewId = "C-12", force = true })).StatusCode);

        var confirm = await _customer.PostAsync($"/api/bookings/{held.GetProperty("id").GetString()}/confirm", null);

        Assert.Equal(HttpStatusCode.Conflict, confirm.StatusCode);
        var detail = (await Json(confirm)).GetProperty("detail").GetString();
        Assert.Contains("is Dispatched: a crew (C-12) was sent for it meanwhile, so the visit time was not booked", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("Reserve is not allowed", detail, StringComparison.Ordinal);
        await Eventually.True(async () =>
        {
            var slots = await Json(await _dispatcher.GetAsync($"/api/crews/C-12/slots?from={Uri.EscapeDataString(_slot.AddHours(-1).ToString("O"))}"));
            return slots[0].GetProperty("held").GetInt32() == 0;
        }, "the held time is let go");
    }

    /// <summary>A customer found another region's crew through its published slots and booked it for their order: a crew
    /// across the city sent to a visit it could not make, its places taken from its own region's customers. A customer
    /// books the crews of their order's region (those the visit times offer); a dispatcher may still lend one.</summary>
    [Fact]
    public async Task A_customer_cannot_book_a_crew_of_another_region_and_a_dispatcher_can()
    {
        await ApiScenario.RegisterCrewAsync(_dispatcher, "C-R2", skills: MeterAndRepair, offShiftUntilTomorrow: true, region: "R2");
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync("/api/crews/C-R2/slots", new { slots = new[] { new { start = _slot, end = _slot.AddHours(2), capacity = 2 } } })).StatusCode);
        var orderId = await CreateAsync(_customer, new { kind = "MeterInstallation", description = "Install the new meter" });

        var refused = await _customer.PostAsJsonAsync("/api/bookings", new { orderId, crewId = "C-R2", slotStart = _slot });

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("crewId", (await Json(refused)).GetProperty("field").GetString());
        var slots = await Json(await _dispatcher.GetAsync($"/api/crews/C-R2/slots?from={Uri.EscapeDataString(_slot.AddHours(-1).ToString("O"))}"));
        Assert.Equal(0, slots[0].GetProperty("held").GetInt32());
        Assert.Equal(HttpStatusCode.Created, (await _dispatcher.PostAsJsonAsync("/api/bookings", new { orderId, crewId = "C-R2", slotStart = _slot })).StatusCode);
    }

    /// <summary>A customer could not move a confirmed visit: a new hold was a 409 "release it first", and the release a
    /// 409 "it belongs to its order" — the only way was to cancel the order and report again. Now the customer holds
    /// another slot (of the same crew or another) and confirms it: the order's visit moves there, the old slot is free
    /// for someone else and the old crew's list lets the order go. Once the crew is sent for the visit it is too late.</summary>
    [Fact]
    public async Task A_customer_moves_a_confirmed_visit_to_another_slot_and_the_old_one_is_freed_until_the_crew_is_sent()
    {
        await ApiScenario.RegisterCrewAsync(_dispatcher, "C-77", skills: MeterAndRepair, offShiftUntilTomorrow: true);
        var later = _slot.AddHours(3);
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync("/api/crews/C-12/slots", new { slots = new[] { new { start = later, end = later.AddHours(2), capacity = 1 } } })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync("/api/crews/C-77/slots", new { slots = new[] { new { start = later, end = later.AddHours(2), capacity = 1 } } })).StatusCode);
        var orderId = await CreateAsync(_customer, new { kind = "MeterInstallation", description = "Install the new meter" });
        var first = (await Json(await HoldAsync(_customer, orderId))).GetProperty("id").GetString()!;
        Assert.Equal(HttpStatusCode.OK, (await _customer.PostAsync($"/api/bookings/{first}/confirm", null)).StatusCode);

        // Same crew, a later slot: until the new one is confirmed the first visit stands.
        var held = await HoldAsync(_customer, orderId, later);
        Assert.Equal(HttpStatusCode.Created, held.StatusCode);
        var second = (await Json(held)).GetProperty("id").GetString()!;
        Assert.Equal((first, "C-12", _slot, _slot.AddHours(2)), Visit(await Json(await _customer.GetAsync($"/api/work-orders/{orderId}"))));
        var moved = await _customer.PostAsync($"/api/bookings/{second}/confirm", null);
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        Assert.Equal((second, "C-12", later, later.AddHours(2)), Visit((await Json(moved)).GetProperty("order")));
        Assert.Equal("Released", (await Json(await _dispatcher.GetAsync($"/api/bookings/{first}"))).GetProperty("state").GetString());
        var other = await CreateAsync(_dispatcher, Installation("WO-OTHER"));
        Assert.Equal(HttpStatusCode.Created, (await HoldAsync(_dispatcher, other)).StatusCode); // the old slot is free again

        // Another crew: the order leaves C-12's list for C-77's.
        var third = (await Json(await _customer.PostAsJsonAsync("/api/bookings", new { orderId, crewId = "C-77", slotStart = later }))).GetProperty("id").GetString()!;
        var movedAgain = await Json(await _customer.PostAsync($"/api/bookings/{third}/confirm", null));
        Assert.Equal((third, "C-77", later, later.AddHours(2)), Visit(movedAgain.GetProperty("order")));
        Assert.Equal(("Reserved", "C-77"), (movedAgain.GetProperty("order").GetProperty("state").GetString(), movedAgain.GetProperty("order").GetProperty("crewId").GetString()));
        Assert.Equal("Released", (await Json(await _dispatcher.GetAsync($"/api/bookings/{second}"))).GetProperty("state").GetString());
        await Eventually.True(async () =>
            !(await Json(await _dispatcher.GetAsync("/api/crews/C-12"))).GetProperty("queuedOrders").EnumerateArray().Any(o => o.GetString() == orderId)
            && (await Json(await _dispatcher.GetAsync("/api/crews/C-77"))).GetProperty("queuedOrders").EnumerateArray().Any(o => o.GetString() == orderId),
            "the order moved from C-12's list to C-77's");
        var history = await Json(await _dispatcher.GetAsync($"/api/work-orders/{orderId}/history"));
        Assert.Equal(3, history.EnumerateArray().Count(e => e.GetProperty("type").GetString() == "Reserved"));
        Assert.Contains(second, history.EnumerateArray().Last(e => e.GetProperty("type").GetString() == "Reserved").GetRawText(), StringComparison.Ordinal); // moved from

        // Sent for its slot, the visit can no longer be moved, and the crew keeps it.
        _clock.Advance(later - TimeSpan.FromMinutes(30) - _clock.GetUtcNow());
        await Eventually.True(
            async () => (await Json(await _customer.GetAsync($"/api/work-orders/{orderId}"))).GetProperty("state").GetString() == "Dispatched",
            "the order is offered to the booked crew ahead of the slot");
        var tooLate = await HoldAsync(_customer, orderId, later.AddDays(1).AddHours(-3));
        Assert.Equal(HttpStatusCode.Conflict, tooLate.StatusCode);
        Assert.Contains("the crew is already sent", (await Json(tooLate)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("Call the 95598 hotline", (await Json(tooLate)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        var byDispatcher = await HoldAsync(_dispatcher, orderId, later.AddDays(1).AddHours(-3));
        Assert.Equal(HttpStatusCode.Conflict, byDispatcher.StatusCode);
        Assert.Contains("Reassign the order", (await Json(byDispatcher)).GetProperty("detail").GetString(), StringComparison.Ordinal); // the dispatcher is the hotline
    }

    /// <summary>A customer began to move a confirmed visit (held another slot) and then cancelled the order: the held
    /// slot stayed taken from other customers for the hold's ten minutes.</summary>
    [Fact]
    public async Task Cancelling_an_order_while_its_visit_is_being_moved_frees_the_slot_held_for_the_move()
    {
        await ApiScenario.RegisterCrewAsync(_dispatcher, "C-77", skills: MeterAndRepair, offShiftUntilTomorrow: true);
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync("/api/crews/C-77/slots", new { slots = new[] { new { start = _slot, end = _slot.AddHours(2), capacity = 1 } } })).StatusCode);
        var orderId = await CreateAsync(_customer, new { kind = "MeterInstallation", description = "Install the new meter" });
        var first = (await Json(await HoldAsync(_customer, orderId))).GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.OK, (await _customer.PostAsync($"/api/bookings/{first}/confirm", null)).StatusCode);
        var moving = (await Json(await _customer.PostAsJsonAsync("/api/bookings", new { orderId, crewId = "C-77", slotStart = _slot }))).GetProperty("id").GetString();

        Assert.Equal(HttpStatusCode.OK, (await _customer.PostAsJsonAsync($"/api/work-orders/{orderId}/transitions", new { action = "cancel", note = "no longer needed" })).StatusCode);

        await Eventually.True(async () => (await Json(await _dispatcher.GetAsync($"/api/bookings/{moving}"))).GetProperty("state").GetString() == "Released", "the move's hold is released");
        var other = await CreateAsync(_dispatcher, Installation("WO-OTHER"));
        Assert.Equal(HttpStatusCode.Created, (await _dispatcher.PostAsJsonAsync("/api/bookings", new { orderId = other, crewId = "C-77", slotStart = _slot })).StatusCode);
    }

    [Fact]
    public async Task A_confirmed_visit_is_on_the_crews_list_and_its_PDA_before_the_day_comes()
    {
        var orderId = await CreateAsync(_customer, new { kind = "MeterInstallation", description = "Install the new meter" });
        var booking = (await Json(await _customer.PostAsJsonAsync("/api/bookings", new { orderId, crewId = "C-12", slotStart = _slot }))).GetProperty("id").GetString();

        Assert.Equal(HttpStatusCode.OK, (await _customer.PostAsync($"/api/bookings/{booking}/confirm", null)).StatusCode);

        var crew = await Json(await _dispatcher.GetAsync("/api/crews/C-12"));
        Assert.Contains(orderId, crew.GetProperty("queuedOrders").EnumerateArray().Select(o => o.GetString()));
        var pda = await _api.ClientForAsync("crew-c12");
        var listed = await Json(await pda.GetAsync("/api/work-orders"));
        Assert.Contains(listed.GetProperty("items").EnumerateArray(), o => o.GetProperty("id").GetString() == orderId && o.GetProperty("state").GetString() == "Reserved");
    }

    [Fact]
    public async Task A_reserve_naming_another_orders_hold_is_a_409_and_the_hold_stays_as_it_was()
    {
        var holder = await CreateAsync(_dispatcher, Installation("WO-HOLDER"));
        var other = await CreateAsync(_dispatcher, Installation("WO-OTHER-R"));
        var booking = (await Json(await _dispatcher.PostAsJsonAsync("/api/bookings", new { orderId = holder, crewId = "C-12", slotStart = _slot }))).GetProperty("id").GetString();

        var refused = await _dispatcher.PostAsJsonAsync($"/api/work-orders/{other}/transitions", new { action = "reserve", targetId = booking });

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("Held", (await Json(await _dispatcher.GetAsync($"/api/bookings/{booking}"))).GetProperty("state").GetString());
        Assert.Equal("Created", (await Json(await _dispatcher.GetAsync($"/api/work-orders/{other}"))).GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.NoContent, (await _dispatcher.DeleteAsync($"/api/bookings/{booking}")).StatusCode);
    }

    [Fact]
    public async Task An_order_reopened_after_an_unhappy_callback_gives_back_its_booked_slot()
    {
        var orderId = await CreateAsync(_customer, new { kind = "MeterInstallation", description = "Install the new meter" });
        var booking = (await Json(await _customer.PostAsJsonAsync("/api/bookings", new { orderId, crewId = "C-12", slotStart = _slot }))).GetProperty("id").GetString();
        await _customer.PostAsync($"/api/bookings/{booking}/confirm", null);
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync($"/api/work-orders/{orderId}/assign", new { crewId = "C-12", force = true })).StatusCode);
        var pda = await _api.ClientForAsync("crew-c12");
        foreach (var action in new[] { "accept", "en-route", "arrive", "resolve" })
        {
            Assert.Equal(HttpStatusCode.OK, (await pda.PostAsJsonAsync($"/api/work-orders/{orderId}/transitions", new { action })).StatusCode);
        }

        var reopened = await Json(await _dispatcher.PostAsJsonAsync($"/api/work-orders/{orderId}/callback", new { outcome = "dissatisfied" }));

        Assert.Equal("Reopened", reopened.GetProperty("state").GetString());
        Assert.Equal("Released", (await Json(await _dispatcher.GetAsync($"/api/bookings/{booking}"))).GetProperty("state").GetString());
        var slots = await Json(await _dispatcher.GetAsync($"/api/crews/C-12/slots?from={Uri.EscapeDataString(_slot.AddHours(-1).ToString("O"))}"));
        Assert.Equal(0, slots[0].GetProperty("confirmed").GetInt32());
    }

    [Fact]
    public async Task An_order_holding_a_visit_at_a_second_crew_gives_back_its_hold_at_the_first_for_another_customer()
    {
        await ApiScenario.RegisterCrewAsync(_dispatcher, "C-77", skills: MeterAndRepair, offShiftUntilTomorrow: true);
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync("/api/crews/C-77/slots", new { slots = new[] { new { start = _slot, end = _slot.AddHours(2), capacity = 1 } } })).StatusCode);
        var orderId = await CreateAsync(_customer, new { kind = "MeterInstallation", description = "Install the new meter" });
        var other = await CreateAsync(_dispatcher, Installation("WO-OTHER"));

        var first = await Json(await _customer.PostAsJsonAsync("/api/bookings", new { orderId, crewId = "C-12", slotStart = _slot }));
        var second = await _customer.PostAsJsonAsync("/api/bookings", new { orderId, crewId = "C-77", slotStart = _slot });

        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal("Released", (await Json(await _dispatcher.GetAsync($"/api/bookings/{first.GetProperty("id").GetString()}"))).GetProperty("state").GetString());
        Assert.Equal("Held", (await Json(await _dispatcher.GetAsync($"/api/bookings/{(await Json(second)).GetProperty("id").GetString()}"))).GetProperty("state").GetString());
        // C-12's only place is free again for someone else.
        Assert.Equal(HttpStatusCode.Created, (await _dispatcher.PostAsJsonAsync("/api/bookings", new { orderId = other, crewId = "C-12", slotStart = _slot })).StatusCode);
    }

    [Theory]
    [InlineData("""{"crewId":"C-12","slotStart":"2030-01-01T09:00:00Z"}""", "orderId")]
    [InlineData("""{"orderId":"WO-D1","slotStart":"2030-01-01T09:00:00Z"}""", "crewId")]
    [InlineData("""{"orderId":"WO-D1","crewId":"C~12","slotStart":"2030-01-01T09:00:00Z"}""", "crewId")]
    [InlineData("""{"orderId":"WO-D1","crewId":"C-12"}""", "slotStart")]
    [InlineData("""{"orderId":"WO-D1","crewId":"C-12","slotStart":"tomorrow"}""", "slotStart")]
    public async Task A_bad_hold_is_a_400_naming_the_field(string json, string field)
    {
        await CreateAsync(_dispatcher, Installation("WO-D1"));

        var response = await _dispatcher.PostAsync("/api/bookings", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, (await Json(response)).GetProperty("field").GetString());
    }

    [Fact]
    public async Task A_release_sent_with_the_confirm_either_wins_or_is_refused_and_the_slot_is_never_booked_twice()
    {
        // Ten capacity-1 slots, one hold each, then every confirm and its release at once.
        var slots = Enumerable.Range(1, 10).Select(i => _slot.AddDays(1).AddHours(i * 3)).ToList();
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync("/api/crews/C-12/slots", new { slots = slots.Select(s => new { start = s, end = s.AddHours(2), capacity = 1 }) })).StatusCode);
        var holds = new List<(string OrderId, string BookingId)>();
        foreach (var slot in slots)
        {
            var orderId = await CreateAsync(_dispatcher, new { kind = "MeterInstallation", description = "Install the new meter", customerId = "CU-0001" });
            var held = await Json(await _dispatcher.PostAsJsonAsync("/api/bookings", new { orderId, crewId = "C-12", slotStart = slot }));
            holds.Add((orderId, held.GetProperty("id").GetString()!));
        }

        var answers = await Task.WhenAll(holds.Select(async hold =>
        {
            var both = await Task.WhenAll(_dispatcher.PostAsync($"/api/bookings/{hold.BookingId}/confirm", null), _dispatcher.DeleteAsync($"/api/bookings/{hold.BookingId}"));
            return (Confirm: both[0].StatusCode, Release: both[1].StatusCode);
        }));

        foreach (var ((orderId, bookingId), (confirm, release)) in holds.Zip(answers))
        {
            var booking = (await Json(await _dispatcher.GetAsync($"/api/bookings/{bookingId}"))).GetProperty("state").GetString();
            var order = (await Json(await _dispatcher.GetAsync($"/api/work-orders/{orderId}"))).GetProperty("state").GetString();
            if (confirm == HttpStatusCode.OK)
            {
                Assert.Equal((HttpStatusCode.Conflict, "Confirmed", "Reserved"), (release, booking, order));
            }
            else
            {
                Assert.Equal((HttpStatusCode.Conflict, HttpStatusCode.NoContent, "Released"), (confirm, release, booking));
                Assert.NotEqual("Reserved", order);
            }
        }
    }

    [Fact]
    public async Task An_order_assigned_to_another_crew_lets_go_of_the_visit_it_held_so_another_customer_can_book_it()
    {
        await ApiScenario.RegisterCrewAsync(_dispatcher, "C-13", skills: MeterAndRepair, offShiftUntilTomorrow: true);
        var first = await CreateAsync(_dispatcher, new { kind = "MeterInstallation", description = "Install the new meter", customerId = "CU-0001" });
        var held = await Json(await _dispatcher.PostAsJsonAsync("/api/bookings", new { orderId = first, crewId = "C-12", slotStart = _slot }));

        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync($"/api/work-orders/{first}/assign", new { crewId = "C-13", force = true })).StatusCode); // called in off shift

        Assert.Equal("Released", (await Json(await _dispatcher.GetAsync($"/api/bookings/{held.GetProperty("id").GetString()}"))).GetProperty("state").GetString());
        var second = await CreateAsync(_dispatcher, new { kind = "MeterInstallation", description = "Install the new meter", customerId = "CU-0001" });
        Assert.Equal(HttpStatusCode.Created, (await _dispatcher.PostAsJsonAsync("/api/bookings", new { orderId = second, crewId = "C-12", slotStart = _slot })).StatusCode);
    }

    [Fact]
    public async Task A_crew_without_the_skill_the_orders_work_needs_cannot_be_booked_for_it()
    {
        await ApiScenario.RegisterCrewAsync(_dispatcher, "C-LV"); // low-voltage repair only
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync("/api/crews/C-LV/slots", new { slots = new[] { new { start = _slot, end = _slot.AddHours(2), capacity = 1 } } })).StatusCode);
        var orderId = await CreateAsync(_customer, new { kind = "MeterInstallation", description = "Install the new meter" });

        var response = await _customer.PostAsJsonAsync("/api/bookings", new { orderId, crewId = "C-LV", slotStart = _slot });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("crewId", (await Json(response)).GetProperty("field").GetString());
        var slots = await Json(await _dispatcher.GetAsync($"/api/crews/C-LV/slots?from={Uri.EscapeDataString(_slot.AddHours(-1).ToString("O"))}"));
        Assert.Equal(0, slots[0].GetProperty("held").GetInt32());
    }

    /// <summary>A day alone with its offset is that day's midnight there; a day without one is told what to send
    /// (the hint glued %2B08:00 onto whatever was sent, and followed it was refused again).</summary>
    [Fact]
    public async Task A_slots_window_of_days_with_their_offset_is_read_and_one_without_is_told_what_to_send()
    {
        var days = await _customer.GetAsync("/api/crews/C-12/slots?from=2026-12-08%2B08:00&to=2026-12-09%2B08:00");
        var bare = await _customer.GetAsync("/api/crews/C-12/slots?from=2026-12-08&to=2026-12-09");
        var unencoded = await _customer.GetAsync("/api/crews/C-12/slots?from=2026-12-08+08:00&to=2026-12-09%2B08:00");

        Assert.Equal(HttpStatusCode.OK, days.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, bare.StatusCode);
        Assert.EndsWith("e.g. 2026-12-08T00:00:00%2B08:00.", (await Json(bare)).GetProperty("detail").GetString());
        // Its '+' read as a space: told so, and what was meant (it suggested 08:00 the same day, eight hours later).
        Assert.EndsWith("(a bare '+' reads as a space): 2026-12-08%2B08:00 if that was its offset.", (await Json(unencoded)).GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("from=2026-12-08T00:00:00", "from")]            // local midnight of which zone?
    [InlineData("from=2026-12-08T00:00:00Z&to=2026-12-08T10:00:00 08:00", "to")] // a '+' not sent as %2B
    public async Task A_slots_window_without_its_utc_offset_is_a_400_naming_the_end(string query, string field)
    {
        var response = await _customer.GetAsync($"/api/crews/C-12/slots?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, (await Json(response)).GetProperty("field").GetString());
    }

    [Theory]
    [InlineData(0, 10, "slots[0].end")]        // ten minutes: shorter than a visit
    [InlineData(0, 60 * 25, "slots[0].end")]   // longer than a day
    [InlineData(400, 120, "slots[0].start")]   // beyond the roster's year
    public async Task A_slot_too_short_too_long_or_too_far_ahead_is_a_400_naming_it(int daysAhead, int minutes, string field)
    {
        var start = _slot.AddDays(daysAhead + 1);

        var response = await _dispatcher.PostAsJsonAsync("/api/crews/C-12/slots", new { slots = new[] { new { start, end = start.AddMinutes(minutes), capacity = 1 } } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, (await Json(response)).GetProperty("field").GetString());
    }

    [Fact]
    public async Task A_slot_that_ended_days_ago_is_a_400_naming_it_the_published_slots_stay_as_they_were_and_any_window_can_be_read()
    {
        var past = _slot.AddDays(-10);

        var response = await _dispatcher.PostAsJsonAsync("/api/crews/C-12/slots", new { slots = new[] { new { start = _slot.AddDays(1), end = _slot.AddDays(1).AddHours(2), capacity = 1 }, new { start = past, end = past.AddHours(2), capacity = 1 } } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("slots[1].end", (await Json(response)).GetProperty("field").GetString());
        var slots = await Json(await _dispatcher.GetAsync($"/api/crews/C-12/slots?from={Uri.EscapeDataString(past.ToString("O"))}&to={Uri.EscapeDataString(_slot.AddDays(3).ToString("O"))}"));
        Assert.Equal([_slot], slots.EnumerateArray().Select(s => s.GetProperty("start").GetDateTimeOffset()));
        // The default window (a fortnight from `from`) stops at the end of time instead of failing past it.
        var lastDays = await _dispatcher.GetAsync("/api/crews/C-12/slots?from=9999-12-31T00:00:00Z");
        Assert.Equal(HttpStatusCode.OK, lastDays.StatusCode);
        Assert.Equal(0, (await Json(lastDays)).GetArrayLength());
    }

    /// <summary>A customer told crews apart through the hold's refusals (attacker pass): 404 for one that does not exist,
    /// "no Metering skill" for one that lacks it, "does not work in region …" for one elsewhere, where GET
    /// /api/crews/{id} is a 404 for all. One 400 naming crewId for the three; a dispatcher is still told which.</summary>
    [Fact]
    public async Task A_customer_gets_one_answer_for_a_crew_that_does_not_exist_lacks_the_skill_or_works_elsewhere()
    {
        await ApiScenario.RegisterCrewAsync(_dispatcher, "C-13", skills: ["LowVoltageRepair"], offShiftUntilTomorrow: true);
        await ApiScenario.RegisterCrewAsync(_dispatcher, "C-14", skills: MeterAndRepair, offShiftUntilTomorrow: true, region: "R2");
        var orderId = await CreateAsync(_customer, new { kind = "MeterInstallation", description = "Install the new meter" });

        var details = new List<string>();
        foreach (var crewId in new[] { "C-none", "C-13", "C-14" })
        {
            var refused = await _customer.PostAsJsonAsync("/api/bookings", new { orderId, crewId, slotStart = _slot });
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            var problem = await Json(refused);
            Assert.Equal("crewId", problem.GetProperty("field").GetString());
            details.Add(problem.GetProperty("detail").GetString()!);
        }

        Assert.Single(details.Distinct());
        Assert.Equal(HttpStatusCode.NotFound, (await _dispatcher.PostAsJsonAsync("/api/bookings", new { orderId, crewId = "C-none", slotStart = _slot })).StatusCode);
        var dispatcherTold = await _dispatcher.PostAsJsonAsync("/api/bookings", new { orderId, crewId = "C-13", slotStart = _slot });
        Assert.Contains("skill", (await Json(dispatcherTold)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_orders_crews_and_bookings_are_404_and_only_dispatchers_and_the_orders_customer_book()
    {
        await CreateAsync(_dispatcher, Installation("WO-D2"));
        var crew = await _api.ClientForAsync("crew-c12");
        var operatorClient = await _api.ClientForAsync("operator-zhao");

        Assert.Equal(HttpStatusCode.NotFound, (await HoldAsync(_dispatcher, "WO-none")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _dispatcher.PostAsJsonAsync("/api/bookings", new { orderId = "WO-D2", crewId = "C-none", slotStart = _slot })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await HoldAsync(_customer, "WO-D2")).StatusCode); // not the customer's order
        Assert.Equal(HttpStatusCode.Forbidden, (await HoldAsync(crew, "WO-D2")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await HoldAsync(operatorClient, "WO-D2")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await HoldAsync(_api.CreateClient(), "WO-D2")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _dispatcher.PostAsync("/api/bookings/C-12~999/confirm", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _dispatcher.DeleteAsync("/api/bookings/no-such-booking")).StatusCode);

        var held = await Json(await HoldAsync(_dispatcher, "WO-D2"));
        var id = held.GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.NotFound, (await _customer.PostAsync($"/api/bookings/{id}/confirm", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _customer.DeleteAsync($"/api/bookings/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await _dispatcher.PostAsJsonAsync("/api/bookings", new { orderId = "WO-D2", crewId = "C-12", slotStart = _slot.AddHours(5) })).StatusCode); // no such slot
    }

    [Fact]
    public async Task An_order_that_no_longer_waits_for_a_crew_cannot_hold_a_slot_and_the_slot_stays_free()
    {
        await CreateAsync(_dispatcher, Installation("WO-X1"));
        Assert.Equal(HttpStatusCode.OK, (await _dispatcher.PostAsJsonAsync("/api/work-orders/WO-X1/transitions", new { action = "cancel", note = "customer withdrew" })).StatusCode);

        var refused = await HoldAsync(_dispatcher, "WO-X1");

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("Cancelled", (await Json(refused)).GetProperty("detail").GetString());
        var slots = await Json(await _dispatcher.GetAsync($"/api/crews/C-12/slots?from={Uri.EscapeDataString(_slot.AddHours(-1).ToString("O"))}"));
        Assert.Equal(0, slots[0].GetProperty("held").GetInt32());
    }

    [Fact]
    public async Task A_hold_not_confirmed_in_time_expires_and_a_released_hold_frees_the_slot()
    {
        await CreateAsync(_dispatcher, Installation("WO-E1"));
        await CreateAsync(_dispatcher, Installation("WO-E2"));
        var first = (await Json(await HoldAsync(_dispatcher, "WO-E1"))).GetProperty("id").GetString();

        Assert.Equal(HttpStatusCode.Conflict, (await HoldAsync(_dispatcher, "WO-E2")).StatusCode); // capacity 1, held
        Assert.Equal(HttpStatusCode.NoContent, (await _dispatcher.DeleteAsync($"/api/bookings/{first}")).StatusCode);
        Assert.Equal("Released", (await Json(await _dispatcher.GetAsync($"/api/bookings/{first}"))).GetProperty("state").GetString());
        var second = await HoldAsync(_dispatcher, "WO-E2");
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        var secondId = (await Json(second)).GetProperty("id").GetString();

        _clock.Advance(TimeSpan.FromMinutes(11)); // holds last 10 minutes
        var late = await _dispatcher.PostAsync($"/api/bookings/{secondId}/confirm", null);

        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Contains("Expired", (await Json(late)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("Created", (await Json(await _dispatcher.GetAsync("/api/work-orders/WO-E2"))).GetProperty("state").GetString());
    }

    [Fact]
    public async Task Fifty_concurrent_holds_on_a_slot_for_one_get_exactly_one_201()
    {
        var ids = Enumerable.Range(1, 50).Select(i => $"WO-R{i}").ToList();
        foreach (var id in ids)
        {
            await CreateAsync(_dispatcher, Installation(id));
        }

        var responses = await Task.WhenAll(ids.Select(id => HoldAsync(_dispatcher, id)));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.Created);
        Assert.Equal(49, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        var slots = await Json(await _dispatcher.GetAsync($"/api/crews/C-12/slots?from={Uri.EscapeDataString(_slot.AddHours(-1).ToString("O"))}"));
        Assert.Equal(1, slots[0].GetProperty("held").GetInt32());
    }

    /// <summary>One customer account held every published slot of a crew with requests of its own, and a dispatcher's
    /// booking for another customer found the slot full. A customer holds or has booked at most three visits at once.</summary>
    [Fact]
    public async Task One_customer_holds_at_most_three_visits_at_once_and_a_released_one_frees_its_place()
    {
        var orders = await CustomerOrdersWithRoomAsync(5);
        var holds = new List<JsonElement>();

        for (var i = 0; i < 3; i++)
        {
            var held = await HoldAsync(_customer, orders[i], Roomy);
            Assert.Equal(HttpStatusCode.Created, held.StatusCode);
            holds.Add(await Json(held));
        }
        Assert.Equal(HttpStatusCode.OK, (await _customer.PostAsync($"/api/bookings/{holds[0].GetProperty("id").GetString()}/confirm", null)).StatusCode);
        var fourth = await HoldAsync(_customer, orders[3], Roomy);
        // Holding again for an order that has a visit is not one more.
        var again = await HoldAsync(_customer, orders[1], Roomy);

        Assert.Equal(HttpStatusCode.Conflict, fourth.StatusCode);
        Assert.Contains("already holds or has booked 3 visits", (await Json(fourth)).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        // Visits are counted where they are: an order cancelled frees its place at once, as a released hold does.
        Assert.Equal(HttpStatusCode.OK, (await _customer.PostAsJsonAsync($"/api/work-orders/{orders[2]}/transitions", new { action = "cancel" })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await HoldAsync(_customer, orders[3], Roomy)).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await HoldAsync(_customer, orders[4], Roomy)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _dispatcher.DeleteAsync($"/api/bookings/{holds[1].GetProperty("id").GetString()}")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await HoldAsync(_customer, orders[4], Roomy)).StatusCode);
        // A dispatcher books for the customer as the hotline asks: not counted against the app's limit.
        Assert.Equal(HttpStatusCode.Created, (await HoldAsync(_dispatcher, orders[1], Roomy)).StatusCode);
    }

    [Fact]
    public async Task Holds_sent_side_by_side_by_one_customer_pass_three_at_most()
    {
        var orders = await CustomerOrdersWithRoomAsync(8);

        var answers = await Task.WhenAll(orders.Select(id => HoldAsync(_customer, id, Roomy)));

        Assert.Equal(3, answers.Count(a => a.StatusCode == HttpStatusCode.Created));
        Assert.Equal(5, answers.Count(a => a.StatusCode == HttpStatusCode.Conflict));
    }

    private Task<HttpResponseMessage> HoldAsync(HttpClient client, string orderId, DateTimeOffset? slotStart = null) =>
        client.PostAsJsonAsync("/api/bookings", new { orderId, crewId = "C-12", slotStart = slotStart ?? _slot });

    /// <summary>The start of a slot of C-12 with room for ten visits (published by <see cref="CustomerOrdersWithRoomAsync"/>).</summary>
    private DateTimeOffset Roomy => _slot.AddHours(3);

    /// <summary>Publishes <see cref="Roomy"/> and makes <paramref name="count"/> orders of the customer's own, waiting
    /// for a crew (no crew has the metering skill), for the visit-limit tests.</summary>
    private async Task<List<string>> CustomerOrdersWithRoomAsync(int count)
    {
        var published = await _dispatcher.PostAsJsonAsync("/api/crews/C-12/slots", new { slots = new[] { new { start = Roomy, end = Roomy.AddHours(2), capacity = 10 } } });
        Assert.Equal(HttpStatusCode.OK, published.StatusCode);
        var orders = new List<string>();
        for (var i = 0; i < count; i++)
        {
            orders.Add(await CreateAsync(_customer, new { kind = "MeterInstallation", description = $"Install meter {i}" }));
        }
        return orders;
    }

    /// <summary>Creates the order and returns the id it got (a customer's report gets one from the service).</summary>
    private static async Task<string> CreateAsync(HttpClient client, object order)
    {
        var created = await client.PostAsJsonAsync("/api/work-orders", order);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await Json(created)).GetProperty("id").GetString()!;
    }

    // No crew here has the metering skill: the order waits in Created, where it may be reserved.
    private static object Installation(string id) => new
    {
        id,
        kind = "MeterInstallation",
        description = "Install a meter",
        region = "R1",
        location = new { latitude = 20.0, longitude = 110.3 },
    };

    private static (string? BookingId, string? CrewId, DateTimeOffset Start, DateTimeOffset End) Visit(JsonElement order)
    {
        var visit = order.GetProperty("visit");
        Assert.False(visit.GetProperty("calledOff").GetBoolean());
        return (visit.GetProperty("bookingId").GetString(), visit.GetProperty("crewId").GetString(), visit.GetProperty("start").GetDateTimeOffset(), visit.GetProperty("end").GetDateTimeOffset());
    }

    private static Task<JsonElement> Json(HttpResponseMessage response) => ApiScenario.JsonAsync(response);
}

using PowerService.Grains.Crews;
using PowerService.Grains.Tests.Support;
using PowerService.Runtime;
using PowerService.TestSupport;

namespace PowerService.Grains.Tests.Crews;

public sealed class BookingTests
{
    private static readonly DateTimeOffset Afternoon = WorkflowSilo.MondayMorning.AddHours(5);

    private static TimeSlot Slot(int capacity, int hoursAfterNoon = 0) =>
        new(Afternoon.AddHours(hoursAfterNoon), Afternoon.AddHours(hoursAfterNoon + 1), capacity);

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task Many_concurrent_bookers_never_overbook_a_slot(int capacity)
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var crew = await Crews.RegisterAsync(silo, "C-1");
        await crew.PublishSlots([Slot(capacity)], "crew:C-1");

        var attempts = Enumerable.Range(0, 50)
            .Select(i => Task.Run(() => silo.Grain<IFieldCrewGrain>("C-1").Hold(new BookingRequest($"o-{i}", Afternoon, "customer"))))
            .ToList();
        var outcomes = await Task.WhenAll(attempts.Select(async a =>
        {
            try
            {
                return (Booking: await a, Conflict: false);
            }
            catch (DomainConflictException)
            {
                return (Booking: (Booking?)null, Conflict: true);
            }
        }));

        Assert.Equal(capacity, outcomes.Count(o => o.Booking is not null));
        Assert.Equal(50 - capacity, outcomes.Count(o => o.Conflict));
        Assert.Equal(capacity, outcomes.Select(o => o.Booking?.Id).OfType<string>().Distinct().Count());
        var slot = Assert.Single(await crew.GetSlots(Afternoon, Afternoon.AddHours(1)));
        Assert.Equal(capacity, slot.Held);
    }

    [Fact]
    public async Task Holding_again_for_the_same_order_returns_its_booking()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var crew = await Crews.RegisterAsync(silo, "C-1");
        await crew.PublishSlots([Slot(2)], "crew:C-1");

        var first = await crew.Hold(new BookingRequest("o-1", Afternoon, "customer"));
        var again = await crew.Hold(new BookingRequest("o-1", Afternoon, "customer"));

        Assert.Equal(first, again);
        Assert.Equal("C-1", BookingId.CrewOf(first.Id));
        Assert.Equal(WorkflowSilo.MondayMorning + new BookingOptions().HoldDuration, first.HoldExpiresAt);
        Assert.Equal(1, (await crew.GetSlots(Afternoon, Afternoon.AddHours(1)))[0].Held);
    }

    [Fact]
    public async Task A_hold_the_store_does_not_take_keeps_no_capacity_and_is_not_stored_later()
    {
        await using var silo = await WorkflowSilo.StartAsync(storeBusyTimeout: TimeSpan.FromMilliseconds(100));
        var crew = await Crews.RegisterAsync(silo, "C-1");
        await crew.PublishSlots([Slot(1)], "crew:C-1");

        await using (await silo.LockStoreAsync())
        {
            await Assert.ThrowsAsync<StorageUnavailableException>(() => crew.Hold(new BookingRequest("o-1", Afternoon, "customer")));
            Assert.Equal(0, (await crew.GetSlots(Afternoon, Afternoon.AddHours(1)))[0].Held);
        }
        var second = await crew.Hold(new BookingRequest("o-2", Afternoon, "customer"));
        await silo.RestartAsync();

        var slot = Assert.Single(await silo.Grain<IFieldCrewGrain>("C-1").GetSlots(Afternoon, Afternoon.AddHours(1)));
        Assert.Equal(1, slot.Held);
        Assert.Equal("o-2", (await silo.Grain<IFieldCrewGrain>("C-1").GetBooking(second.Id))?.OrderId);
        Assert.Equal(BookingId.Create("C-1", 1), second.Id);
    }

    [Fact]
    public async Task An_unconfirmed_hold_expires_frees_the_slot_and_can_no_longer_be_confirmed()
    {
        await using var silo = await WorkflowSilo.StartAsync(o => o.Booking.HoldDuration = TimeSpan.FromMinutes(10));
        var crew = await Crews.RegisterAsync(silo, "C-1");
        await crew.PublishSlots([Slot(1)], "crew:C-1");
        var held = await crew.Hold(new BookingRequest("o-1", Afternoon, "customer"));
        // Stored with the hold, in its write: the expiry's wake-up is there when the customer is answered.
        var expiry = Assert.Single(await silo.Storage.ReadRemindersAsync(new GrainId("FieldCrewGrain", "C-1")));
        Assert.Equal(held.HoldExpiresAt!.Value.ToUnixTimeMilliseconds(), expiry.DueAtMs);

        silo.Advance(TimeSpan.FromMinutes(10));

        await Eventually.True(
            async () => (await silo.Storage.ReadStreamAsync(JournalStreams.Crew("C-1"), 0, 50)).Any(e => e.EventType == "BookingExpired"),
            "the hold expiry reminder journals the expiry");
        Assert.Equal(0, (await crew.GetSlots(Afternoon, Afternoon.AddHours(1)))[0].Held);
        await Assert.ThrowsAsync<DomainConflictException>(() => crew.Confirm(held.Id, "customer"));
        var other = await crew.Hold(new BookingRequest("o-2", Afternoon, "customer"));
        Assert.Equal(BookingState.Held, other.State);
        Assert.Equal(other.HoldExpiresAt!.Value.ToUnixTimeMilliseconds(), Assert.Single(await silo.Storage.ReadRemindersAsync(new GrainId("FieldCrewGrain", "C-1"))).DueAtMs);
    }

    [Fact]
    public async Task A_hold_past_its_time_is_gone_even_before_the_reminder_fires()
    {
        await using var silo = await WorkflowSilo.StartAsync(o => o.Booking.HoldDuration = TimeSpan.FromMinutes(10));
        var crew = await Crews.RegisterAsync(silo, "C-1");
        await crew.PublishSlots([Slot(1)], "crew:C-1");
        await crew.Hold(new BookingRequest("o-1", Afternoon, "customer"));

        // Reminders fire in the background; the next call must not wait for it to see the slot free.
        silo.Advance(TimeSpan.FromMinutes(11));
        var other = await crew.Hold(new BookingRequest("o-2", Afternoon, "customer"));

        Assert.Equal("o-2", other.OrderId);
    }

    [Fact]
    public async Task A_confirmed_booking_keeps_its_slot_past_the_hold_time()
    {
        await using var silo = await WorkflowSilo.StartAsync(o => o.Booking.HoldDuration = TimeSpan.FromMinutes(10));
        var crew = await Crews.RegisterAsync(silo, "C-1");
        await crew.PublishSlots([Slot(1)], "crew:C-1");
        var held = await crew.Hold(new BookingRequest("o-1", Afternoon, "customer"));

        var confirmed = await crew.Confirm(held.Id, "customer");
        silo.Advance(TimeSpan.FromMinutes(30));

        Assert.Equal(BookingState.Confirmed, confirmed.State);
        Assert.Null(confirmed.HoldExpiresAt);
        await Assert.ThrowsAsync<DomainConflictException>(() => crew.Hold(new BookingRequest("o-2", Afternoon, "customer")));
        Assert.Equal(1, (await crew.GetSlots(Afternoon, Afternoon.AddHours(1)))[0].Confirmed);
    }

    [Fact]
    public async Task An_order_holds_one_slot_of_a_crew_a_new_hold_moves_it_and_a_confirmed_visit_stands_beside_a_new_hold()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var crew = await Crews.RegisterAsync(silo, "C-1");
        await crew.PublishSlots([Slot(1), Slot(1, hoursAfterNoon: 1), Slot(1, hoursAfterNoon: 2), Slot(1, hoursAfterNoon: 3)], "crew:C-1");

        var first = await crew.Hold(new BookingRequest("o-1", Afternoon, "customer"));
        var moved = await crew.Hold(new BookingRequest("o-1", Afternoon.AddHours(1), "customer"));

        // The first slot is free again for another customer; the order holds only the second.
        Assert.Equal(BookingState.Released, (await crew.GetBooking(first.Id))!.State);
        Assert.Equal(BookingState.Held, (await crew.Hold(new BookingRequest("o-2", Afternoon, "customer"))).State);
        Assert.Equal([1, 1, 0], (await crew.GetSlots(Afternoon, Afternoon.AddHours(3))).Select(v => v.Held));
        await Assert.ThrowsAsync<DomainConflictException>(() => crew.Confirm(first.Id, "customer"));

        // Confirmed, the visit stands while the order holds another slot (the customer moving it); a further hold
        // moves that hold, never the confirmed visit, which the order releases once it confirms the new one.
        await crew.Confirm(moved.Id, "customer");
        var third = await crew.Hold(new BookingRequest("o-1", Afternoon.AddHours(2), "customer"));
        var fourth = await crew.Hold(new BookingRequest("o-1", Afternoon.AddHours(3), "customer"));
        Assert.Equal(BookingState.Confirmed, (await crew.GetBooking(moved.Id))!.State);
        Assert.Equal((BookingState.Released, BookingState.Held), ((await crew.GetBooking(third.Id))!.State, (await crew.GetBooking(fourth.Id))!.State));
        Assert.Equal(moved.Id, (await crew.Hold(new BookingRequest("o-1", Afternoon.AddHours(1), "customer"))).Id); // its own slot: the visit it has
    }

    /// <summary>A customer held and confirmed a slot half over: the order was dispatched at once for a visit the crew
    /// could not make. A customer's slot must start at least the dispatch lead ahead; a dispatcher may fit a visit in
    /// sooner, agreed with the crew, but not in a slot that ended.</summary>
    [Fact]
    public async Task A_customer_cannot_hold_a_slot_starting_within_the_dispatch_lead_and_a_dispatcher_can()
    {
        await using var silo = await WorkflowSilo.StartAsync(o => o.Booking.DispatchLead = TimeSpan.FromMinutes(30));
        var now = WorkflowSilo.MondayMorning.AddSeconds(20);
        silo.Advance(TimeSpan.FromSeconds(20));
        var crew = await Crews.RegisterAsync(silo, "C-1");
        var underWay = new TimeSlot(now.AddMinutes(-30), now.AddMinutes(15), 2);
        var soon = new TimeSlot(now.AddMinutes(30).AddSeconds(-20), now.AddMinutes(100), 2); // 09:30, 29:40 from now
        var inTime = new TimeSlot(now.AddMinutes(100), now.AddMinutes(160), 2);
        await crew.PublishSlots([underWay, soon, inTime], "crew:C-1");

        var halfOver = await Assert.ThrowsAsync<DomainConflictException>(() => crew.Hold(new BookingRequest("o-1", underWay.Start, "customer:wang", ByCustomer: true)));
        var tooSoon = await Assert.ThrowsAsync<DomainConflictException>(() => crew.Hold(new BookingRequest("o-1", soon.Start, "customer:wang", ByCustomer: true)));
        var booked = await crew.Hold(new BookingRequest("o-1", inTime.Start, "customer:wang", ByCustomer: true));
        var fittedIn = await crew.Hold(new BookingRequest("o-2", underWay.Start, "dispatcher:li"));

        Assert.Equal(
            "The slot of crew 'C-1' at 2026-11-23 09:30 +08:00 starts too soon: a visit is booked at least 30 minutes ahead, so that the crew can be sent in time. "
            + "The earliest start you can book now is 2026-11-23 09:31 +08:00.",
            tooSoon.Message);
        Assert.Contains("starts too soon", halfOver.Message, StringComparison.Ordinal);
        Assert.Equal((BookingState.Held, BookingState.Held), (booked.State, fittedIn.State));
        Assert.Equal([1, 0, 1], (await crew.GetSlots(underWay.Start, inTime.End)).Select(v => v.Held));
        silo.Advance(TimeSpan.FromMinutes(16));
        await Assert.ThrowsAsync<DomainConflictException>(() => crew.Hold(new BookingRequest("o-3", underWay.Start, "dispatcher:li")));
    }

    [Fact]
    public async Task A_customers_hold_confirmed_once_its_slot_starts_within_the_dispatch_lead_is_refused_and_a_dispatchers_is_not()
    {
        await using var silo = await WorkflowSilo.StartAsync(o => o.Booking.DispatchLead = TimeSpan.FromMinutes(30));
        var crew = await Crews.RegisterAsync(silo, "C-1");
        var start = WorkflowSilo.MondayMorning.AddMinutes(31);
        await crew.PublishSlots([new TimeSlot(start, start.AddHours(1), 2)], "crew:C-1");
        var held = await crew.Hold(new BookingRequest("o-1", start, "customer:wang", ByCustomer: true));
        var heldByDispatcher = await crew.Hold(new BookingRequest("o-2", start, "dispatcher:li"));
        silo.Advance(TimeSpan.FromMinutes(2)); // the hold lasts 10 minutes: confirmed 29 minutes ahead

        var late = await Assert.ThrowsAsync<DomainConflictException>(() => crew.Confirm(held.Id, "customer:wang"));
        var fittedIn = await crew.Confirm(heldByDispatcher.Id, "dispatcher:li");

        Assert.Contains("now starts within 30 minutes: too late to confirm", late.Message, StringComparison.Ordinal);
        Assert.Equal(BookingState.Held, (await crew.GetBooking(held.Id))!.State);
        Assert.Equal(BookingState.Confirmed, fittedIn.State);
    }

    [Fact]
    public async Task Releasing_a_booking_frees_its_capacity_and_a_released_one_cannot_be_confirmed()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var crew = await Crews.RegisterAsync(silo, "C-1");
        await crew.PublishSlots([Slot(1)], "crew:C-1");
        var first = await crew.Confirm((await crew.Hold(new BookingRequest("o-1", Afternoon, "customer"))).Id, "customer");
        await Assert.ThrowsAsync<DomainConflictException>(() => crew.Hold(new BookingRequest("o-2", Afternoon, "customer")));

        await crew.Release(first.Id, "customer");
        var second = await crew.Hold(new BookingRequest("o-2", Afternoon, "customer"));

        Assert.Equal(BookingState.Held, second.State);
        await Assert.ThrowsAsync<DomainConflictException>(() => crew.Confirm(first.Id, "customer"));
        await Assert.ThrowsAsync<EntityNotFoundException>(() => crew.Release("C-1~999", "customer"));
    }

    [Fact]
    public async Task Only_published_open_slots_can_be_held_and_capacity_cannot_drop_below_bookings()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var crew = await Crews.RegisterAsync(silo, "C-1");
        await crew.PublishSlots([Slot(2), Slot(1, hoursAfterNoon: 1)], "crew:C-1");
        await crew.Hold(new BookingRequest("o-1", Afternoon, "customer"));
        await crew.Hold(new BookingRequest("o-2", Afternoon, "customer"));

        await Assert.ThrowsAsync<DomainConflictException>(() => crew.Hold(new BookingRequest("o-3", Afternoon.AddMinutes(30), "customer")));
        await Assert.ThrowsAsync<DomainConflictException>(() => crew.PublishSlots([Slot(1)], "crew:C-1"));
        var overlap = await Assert.ThrowsAsync<InvalidFieldException>(() => crew.PublishSlots([new TimeSlot(Afternoon.AddMinutes(30), Afternoon.AddMinutes(90), 1)], "crew:C-1"));
        Assert.Equal("slots[0].start", overlap.Field);
        var widened = await crew.PublishSlots([Slot(4)], "crew:C-1");
        Assert.Equal(new SlotView(Afternoon, Afternoon.AddHours(1), 4, 2, 0), Assert.Single(widened));
        Assert.Equal(2, (await crew.GetSlots(Afternoon, Afternoon.AddHours(2))).Count);
    }

    [Fact]
    public async Task A_bad_slot_in_a_list_is_named_by_its_index_and_nothing_of_the_list_is_published()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var crew = await Crews.RegisterAsync(silo, "C-1");

        var backwards = await Assert.ThrowsAsync<InvalidFieldException>(() => crew.PublishSlots(
            [Slot(1), new TimeSlot(Afternoon.AddHours(3), Afternoon.AddHours(2), 1)], "crew:C-1"));
        var tooMany = await Assert.ThrowsAsync<InvalidFieldException>(() => crew.PublishSlots(
            [Slot(1), Slot(1, hoursAfterNoon: 1), Slot(51, hoursAfterNoon: 2)], "crew:C-1"));
        // Given second, starting first: the later one in the caller's list is the one named.
        var overlapping = await Assert.ThrowsAsync<InvalidFieldException>(() => crew.PublishSlots(
            [Slot(1, hoursAfterNoon: 1), new TimeSlot(Afternoon.AddMinutes(30), Afternoon.AddMinutes(90), 1)], "crew:C-1"));

        Assert.Equal("slots[1].end", backwards.Field);
        Assert.Equal("slots[2].capacity", tooMany.Field);
        Assert.Equal("slots[1].start", overlapping.Field);
        Assert.Contains("slots[0]", overlapping.Message);
        Assert.DoesNotContain("(Parameter", overlapping.Message);
        Assert.Empty(await crew.GetSlots(Afternoon.AddDays(-1), Afternoon.AddDays(1)));
    }

    [Fact]
    public async Task Holds_survive_a_restart_and_still_expire()
    {
        await using var silo = await WorkflowSilo.StartAsync(o => o.Booking.HoldDuration = TimeSpan.FromMinutes(10));
        var crew = await Crews.RegisterAsync(silo, "C-1");
        await crew.PublishSlots([Slot(1)], "crew:C-1");
        await crew.Hold(new BookingRequest("o-1", Afternoon, "customer"));

        await silo.RestartAsync();
        silo.Advance(TimeSpan.FromMinutes(10));

        await Eventually.True(
            async () => (await silo.Storage.ReadStreamAsync(JournalStreams.Crew("C-1"), 0, 50)).Any(e => e.EventType == "BookingExpired"),
            "the durable reminder expires the hold after a restart");
    }
}

using PowerService.Grains.Crews;
using PowerService.Grains.Dispatch;
using PowerService.Grains.Regions;
using PowerService.Grains.Tests.Support;
using PowerService.Grains.Topology;
using PowerService.Grains.WorkOrders;
using PowerService.Runtime;
using PowerService.TestSupport;
using static PowerService.Grains.Tests.Dispatch.Roster;

namespace PowerService.Grains.Tests.Crews;

public sealed class FieldCrewTests
{
    public static TheoryData<string, string, CrewProfile> BadProfiles()
    {
        var good = Crews.Profile();
        return new()
        {
            { "C-1", "name", good with { Name = " " } },
            { "C-1", "region", good with { Region = "" } },
            // "*" is every region to the dispatch hub; the others look like "R1" and are another region.
            { "C-1", "region", good with { Region = "*" } },
            { "C-1", "region", good with { Region = "R1\u200B" } },
            { "C-1", "region", good with { Region = new string('R', 65) } },
            { "C-1", "skills", good with { Skills = [] } },
            { "C-1", "capacity", good with { Capacity = 0 } },
            { "C-1", "capacity", good with { Capacity = 51 } },
            { "C-1", "home", good with { Home = new GeoPoint(91, 0) } },
            { "C-1", "shifts[0]", good with { Shifts = [new Shift(DayShift.End, DayShift.Start)] } },
            // On shift for ever: dispatch kept sending the crew work.
            { "C-1", "shifts[1]", good with { Shifts = [DayShift, new Shift(DateTimeOffset.MinValue, DateTimeOffset.MaxValue)] } },
            { "C-1", "shifts[0]", good with { Shifts = [new Shift(DayShift.Start, DayShift.Start.AddDays(32))] } },
            { "C~1", "id", good },
        };
    }

    [Theory]
    [MemberData(nameof(BadProfiles))]
    public async Task Registration_names_the_bad_field_and_keeps_nothing(string id, string field, CrewProfile profile)
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var crew = silo.Grain<IFieldCrewGrain>(id);

        var error = await Assert.ThrowsAsync<InvalidFieldException>(() => crew.Register(profile, "dispatcher:li"));

        Assert.Equal(field, error.Field);
        Assert.Null(await crew.Get());
    }

    [Fact]
    public async Task A_registered_crew_starts_at_home_available_and_joins_its_region_for_dispatch()
    {
        await using var silo = await WorkflowSilo.StartAsync();

        var crew = await Crews.RegisterAsync(silo, "C-1");

        var view = await crew.Get();
        Assert.Equal(CrewStatus.Available, view?.Status);
        Assert.Equal(At(0), view?.Location);
        Assert.Null(view?.LocationAt);
        Assert.Equal("C-1", (await silo.Grain<IDispatchGrain>("north").RequestCrew(Order("o-1", At(2))))?.CrewId);
    }

    [Fact]
    public async Task The_pda_location_moves_the_crew_for_dispatch_and_is_journaled()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var near = await Crews.RegisterAsync(silo, "near");
        var roaming = await Crews.RegisterAsync(silo, "roaming", Crews.Profile() with { Home = At(30) });

        var view = await roaming.ReportLocation(At(10.5), "crew:roaming");
        await near.ReportLocation(At(-5), "crew:near");

        Assert.Equal(At(10.5), view.Location);
        Assert.Equal(silo.Clock.GetUtcNow(), view.LocationAt);
        Assert.Equal("roaming", (await silo.Grain<IDispatchGrain>("north").RequestCrew(Order("o-1", At(10))))?.CrewId);
        var journal = await silo.Storage.ReadStreamAsync(JournalStreams.Crew("roaming"), 0, 10);
        var reported = Assert.Single(journal, e => e.EventType == "CrewLocationReported");
        Assert.Equal("crew:roaming", reported.Actor);
        Assert.Equal(At(10.5).ToString(), reported.Location);
    }

    [Fact]
    public async Task A_location_the_store_does_not_take_is_refused_and_does_not_land_with_the_next_write()
    {
        await using var silo = await WorkflowSilo.StartAsync(storeBusyTimeout: TimeSpan.FromMilliseconds(100));
        var crew = await Crews.RegisterAsync(silo, "C-1");
        await crew.ReportLocation(At(5), "crew:C-1");

        await using (await silo.LockStoreAsync())
        {
            await Assert.ThrowsAsync<StorageUnavailableException>(() => crew.ReportLocation(At(20), "crew:C-1"));
            Assert.Equal(At(5), (await crew.Get())?.Location);
        }
        await crew.SetStatus(CrewStatus.OffShift, "crew:C-1");
        await silo.RestartAsync();

        var view = await silo.Grain<IFieldCrewGrain>("C-1").Get();
        Assert.Equal(At(5), view?.Location);
        Assert.Equal(CrewStatus.OffShift, view?.Status);
        var journal = await silo.Storage.ReadStreamAsync(JournalStreams.Crew("C-1"), 0, 10);
        Assert.Equal(At(5).ToString(), Assert.Single(journal, e => e.EventType == "CrewLocationReported").Location);
    }

    [Fact]
    public async Task An_off_shift_crew_is_not_dispatched_until_it_is_available_again()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var crew = await Crews.RegisterAsync(silo, "C-1");
        var dispatch = silo.Grain<IDispatchGrain>("north");

        var off = await crew.SetStatus(CrewStatus.OffShift, "crew:C-1");
        var whileOff = await dispatch.RequestCrew(Order("o-1", At(1)));
        await dispatch.Withdraw("o-1");
        await crew.SetStatus(CrewStatus.Available, "dispatcher:li");
        var whileOn = await dispatch.RequestCrew(Order("o-2", At(1)));

        Assert.Equal(CrewStatus.OffShift, off.Status);
        Assert.Null(whileOff);
        Assert.Equal("C-1", whileOn?.CrewId);
    }

    [Fact]
    public async Task Orders_are_queued_then_current_and_drive_the_status_until_they_leave()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var crew = await Crews.RegisterAsync(silo, "C-1");

        await crew.OrderChanged("o-1", WorkOrderState.Dispatched, "C-1");
        await crew.OrderChanged("o-2", WorkOrderState.Reserved, "C-1");
        var queued = await crew.Get();
        await crew.OrderChanged("o-1", WorkOrderState.EnRoute, "C-1");
        var travelling = await crew.Get();
        await crew.OrderChanged("o-1", WorkOrderState.OnSite, "C-1");
        var onSite = await crew.Get();
        await crew.OrderChanged("o-1", WorkOrderState.Resolved, "C-1");
        await crew.OrderChanged("o-2", WorkOrderState.Dispatched, "C-2");
        var done = await crew.Get();

        Assert.Equal(["o-1", "o-2"], queued!.QueuedOrders);
        Assert.Empty(queued.CurrentOrders);
        Assert.Equal(CrewStatus.Available, queued.Status);
        Assert.Equal(["o-1"], travelling!.CurrentOrders);
        Assert.Equal(CrewStatus.Travelling, travelling.Status);
        Assert.Equal(CrewStatus.OnSite, onSite!.Status);
        Assert.Empty(done!.CurrentOrders);
        Assert.Empty(done.QueuedOrders);
        Assert.Equal(CrewStatus.Available, done.Status);
    }

    [Fact]
    public async Task A_crew_full_of_orders_is_not_offered_more()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var full = await Crews.RegisterAsync(silo, "full", Crews.Profile(capacity: 2));
        await Crews.RegisterAsync(silo, "spare", Crews.Profile() with { Home = At(25) });
        await full.OrderChanged("o-1", WorkOrderState.Accepted, "full");
        await full.OrderChanged("o-2", WorkOrderState.Dispatched, "full");

        var decision = await silo.Grain<IDispatchGrain>("north").RequestCrew(Order("o-3", At(0)));

        Assert.Equal("spare", decision?.CrewId);
    }

    [Fact]
    public async Task A_crew_moved_to_another_region_is_dispatched_only_there()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var crew = await Crews.RegisterAsync(silo, "C-1");

        await crew.Register(Crews.Profile(region: "south"), "dispatcher:li");

        Assert.Null(await silo.Grain<IDispatchGrain>("north").RequestCrew(Order("o-1", At(1))));
        Assert.Equal("C-1", (await silo.Grain<IDispatchGrain>("south").RequestCrew(Order("o-2", At(1))))?.CrewId);
        var north = await silo.Grain<IServiceCountsGrain>("region:north").GetCounts();
        Assert.Equal(0, north.CrewsByStatus.Values.Sum());
    }

    [Fact]
    public async Task Status_changes_reach_the_region_counts()
    {
        await using var silo = await WorkflowSilo.StartAsync();
        var crew = await Crews.RegisterAsync(silo, "C-1");
        await Crews.RegisterAsync(silo, "C-2");

        await crew.OrderChanged("o-1", WorkOrderState.OnSite, "C-1");

        var counts = await silo.Grain<IServiceCountsGrain>("region:north").GetCounts();
        Assert.Equal(1, counts.CrewsByStatus.GetValueOrDefault(CrewStatus.OnSite));
        Assert.Equal(1, counts.CrewsByStatus.GetValueOrDefault(CrewStatus.Available));
    }
}

using PowerService.Runtime.Tests.Grains;
using PowerService.Runtime.Tests.Support;

namespace PowerService.Runtime.Tests;

/// <summary>A live feed waits on <see cref="Silo.JournalAppends"/> (a <see cref="WakeSignal"/>) instead of polling: it must wake when a grain commits
/// journal events, and only then.</summary>
public sealed class JournalSignalTests : IAsyncLifetime
{
    private readonly TempSqlite _db = new();
    private TestSilo _silo = null!;

    public async Task InitializeAsync() => _silo = await TestSilo.StartAsync(_db.NewProvider());

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        _db.Dispose();
    }

    [Fact]
    public async Task A_waiting_reader_is_woken_by_a_grains_journaled_write_and_finds_the_event_in_the_journal()
    {
        var after = await _silo.Silo.Storage.LastEventSequenceAsync();
        var appended = _silo.Silo.JournalAppends.Next();

        await _silo.Grain<IJournaledGrain>("j-1").Record("Happened", journaled: true);

        // The grain's write returned only after its commit, and the signal fires after the commit: no waiting here.
        Assert.True(appended.IsCompletedSuccessfully);
        var events = await _silo.Silo.Storage.ReadAllEventsAsync(after, 10);
        Assert.Equal("Happened", Assert.Single(events).EventType);
        Assert.False(_silo.Silo.JournalAppends.Next().IsCompleted); // the next wait is for the next append
    }

    [Fact]
    public async Task A_write_without_journal_events_does_not_wake_the_reader()
    {
        var appended = _silo.Silo.JournalAppends.Next();

        await _silo.Grain<IJournaledGrain>("j-2").Record("Nothing", journaled: false);
        await _silo.Grain<IJournaledGrain>("j-2").Record("Nothing", journaled: false);

        Assert.False(appended.IsCompleted);
        await _silo.Grain<IJournaledGrain>("j-2").Record("Something", journaled: true);
        Assert.True(appended.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task Every_reader_waiting_on_the_same_append_is_woken()
    {
        var first = _silo.Silo.JournalAppends.Next();
        var second = _silo.Silo.JournalAppends.Next();

        await _silo.Grain<IJournaledGrain>("j-3").Record("Happened", journaled: true);

        Assert.True(first.IsCompletedSuccessfully);
        Assert.True(second.IsCompletedSuccessfully);
    }
}

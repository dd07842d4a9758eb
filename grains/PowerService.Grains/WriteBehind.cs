namespace PowerService.Grains;

/// <summary>State a grain writes behind: a change marks it, the grain's timer and deactivation flush it. A failed
/// flush leaves it marked, so the next flush tries again; a write the grain made on its own clears it.
/// Given a <c>schedule</c> (a one-shot grain timer), a change arms one flush and a clean grain has no timer at all:
/// for grains with many activations (an area, an outage), whose periodic ticks would otherwise cost a turn a second
/// each, changed or not.</summary>
internal sealed class WriteBehind(Func<Task> write, Func<Func<Task>, IDisposable>? schedule = null)
{
    private bool _changed;
    private IDisposable? _armed;

    public void Changed()
    {
        _changed = true;
        if (schedule is not null)
        {
            _armed ??= schedule(OnTimerAsync);
        }
    }

    /// <summary>The state was just written by the grain itself: nothing is owed.</summary>
    public void Written() => _changed = false;

    public async Task FlushAsync()
    {
        if (!_changed)
        {
            return;
        }
        _changed = false;
        try
        {
            await write();
        }
        catch
        {
            Changed();
            throw;
        }
    }

    private Task OnTimerAsync()
    {
        _armed?.Dispose();
        _armed = null;
        return FlushAsync();
    }
}

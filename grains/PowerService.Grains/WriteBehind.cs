namespace PowerService.Grains;

/// <summary>State a grain writes behind: a change marks it, the grain's timer and deactivation flush it. A failed
/// flush leaves it marked, so the next flush tries again; a write the grain made on its own clears it.</summary>
internal sealed class WriteBehind(Func<Task> write)
{
    private bool _changed;

    public void Changed() => _changed = true;

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
            _changed = true;
            throw;
        }
    }
}

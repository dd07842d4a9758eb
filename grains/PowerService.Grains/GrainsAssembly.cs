using System.Reflection;

namespace PowerService.Grains;

/// <summary>The assembly the silo searches for domain grain classes.</summary>
public static class GrainsAssembly
{
    public static Assembly Value => typeof(GrainsAssembly).Assembly;
}

# egsu-agent as a Windows service with NSSM (https://nssm.cc), run in an elevated PowerShell.
# agent/README.md, "Run it as a service", explains each step. Adjust the four variables below.
$Root    = "C:\egsu-agent"                   # venv, agent.toml, key store, logs
$Python  = "py -3.11"                        # the Python launcher; the agent needs Python 3.11
$Nssm    = "C:\Tools\nssm\win64\nssm.exe"
$Source  = "C:\egsu-agent\src"               # a copy of the repository's core\ and agent\ folders

New-Item -ItemType Directory -Force "$Root\logs" | Out-Null
Invoke-Expression "$Python -m venv $Root\venv"
& "$Root\venv\Scripts\python.exe" -m pip install "$Source\core" "$Source\agent"
& "$Root\venv\Scripts\egsu-agent.exe" --help | Out-Null   # fails loudly if the install is broken

# The key store's password in a file only the service account and administrators may read
# (agent.toml: key_store_password_file = "C:/egsu-agent/p12.pass").
icacls "$Root\p12.pass" /inheritance:r /grant:r "SYSTEM:R" "Administrators:F" | Out-Null

& $Nssm install egsu-agent "$Root\venv\Scripts\egsu-agent.exe" run
& $Nssm set egsu-agent AppDirectory $Root
& $Nssm set egsu-agent AppEnvironmentExtra "EGSU_AGENT_CONFIG=$Root\agent.toml"
& $Nssm set egsu-agent DisplayName "EGSU agent"
& $Nssm set egsu-agent Description "Metering data to the System as signed ISUN messages"
& $Nssm set egsu-agent Start SERVICE_DELAYED_AUTO_START
& $Nssm set egsu-agent AppStdout "$Root\logs\agent.log"
& $Nssm set egsu-agent AppStderr "$Root\logs\agent.log"
& $Nssm set egsu-agent AppRotateFiles 1
& $Nssm set egsu-agent AppRotateBytes 10485760
# Ctrl+C first (the agent finishes the send in flight), and give it two minutes.
& $Nssm set egsu-agent AppStopMethodConsole 120000
& $Nssm set egsu-agent AppExit Default Restart
& $Nssm set egsu-agent AppRestartDelay 30000
& $Nssm start egsu-agent

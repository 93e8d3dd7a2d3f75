import ast
lines=open('dlpfc_reference_output.txt').read().splitlines()
m={l.split()[1]:l.split()[2] for l in lines if l.startswith('mask64')}
s=open('dlpfc_template.cs.txt').read()
s=s.replace('"DS"','"'+m['ds']+'"').replace('"IQ"','"'+m['iq']+'"').replace('"IS"','"'+m['is']+'"')
evr_line=[l for l in lines if l.startswith('evr[:6]')][0]
evr=evr_line[len('evr[:6] '):evr_line.index('] sum50')+1]; sum50=evr_line.split('sum50 ')[1]
sc=ast.literal_eval([l for l in lines if l.startswith('scores')][0][len('scores[0:3,0:3] '):])
s=s.replace('EVR','['+evr.strip('[]')+']').replace('SUM50',sum50)
s=s.replace('SCORES','{ '+', '.join('{ '+', '.join(repr(v) for v in row)+' }' for row in sc)+' }')
open('../DlpfcParityTests.cs','w').write(s)
